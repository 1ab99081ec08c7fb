// "Connect to any Temporal": the frontend requires a client certificate. A client without one is refused; with
// the standard variables (or a temporal.toml profile) the production connection code reaches it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, inject, it } from 'vitest';
import { loadEnv } from '../../src/env';
import { connectTemporal } from '../../src/temporal/connect';
import { clusterConnect } from './support';

describe('a self-hosted Temporal with mTLS on the frontend', () => {
  it('refuses a client without the client certificate (the TLS handshake ends with "certificate required")', async () => {
    await expect(clusterConnect({}, { clientCert: false, connectTimeoutMs: 3000 })).rejects.toThrow(
      /cannot connect to Temporal at 127\.0\.0\.1:\d+/,
    );
    // Why: the server trusts our CA but demands a client certificate. A bare TLS client sees the alert.
    const c = inject('cluster');
    const [host, port] = c.address.split(':') as [string, string];
    const alert = await new Promise<string>((resolve) => {
      const sock = tlsConnect({
        host,
        port: Number(port),
        ca: readFileSync(c.certs.caCert),
        servername: 'localhost',
        ALPNProtocols: ['h2'],
      });
      sock.once('secureConnect', () => sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      sock.once('close', () => resolve('closed without an alert'));
    });
    expect(alert).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  it('accepts the client certificate from TEMPORAL_TLS_* (namespace default, 30 days of retention)', async () => {
    const conn = await clusterConnect();
    try {
      expect(conn.embedded).toBe(false);
      expect(conn.address).toBe(inject('cluster').address);
      const ns = await conn.client.workflowService.describeNamespace({ namespace: 'default' });
      expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
    } finally {
      await conn.close();
    }
  });

  it('reads a temporal.toml profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) for client and worker connections', async () => {
    const c = inject('cluster');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rollout-toml-')), 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '',
        '[profile.selfhosted]',
        `address = "${c.address}"`,
        'namespace = "default"',
        '[profile.selfhosted.tls]',
        `server_ca_cert_path = "${c.certs.caCert}"`,
        'server_name = "localhost"',
        `client_cert_path = "${c.certs.clientCert}"`,
        `client_key_path = "${c.certs.clientKey}"`,
        '',
      ].join('\n'),
    );
    const env = loadEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'selfhosted' });
    const conn = await connectTemporal(env, { stderr: process.stderr });
    try {
      expect(conn.address).toBe(c.address);
      await conn.client.workflowService.getSystemInfo({});
      // The worker side (native core) takes the same TLS settings.
      const native = await conn.nativeConnection();
      await native.workflowService.getSystemInfo({});
    } finally {
      await conn.close();
    }
  });
});
