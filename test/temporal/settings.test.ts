// Where a process finds Temporal: the standard client configuration (@temporalio/envconfig: TEMPORAL_* variables
// over a temporal.toml profile) first, then the config file's `temporal:` section, then the embedded dev server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/env';
import { TemporalClientConfigError, temporalClientProfile, temporalSettings } from '../../src/temporal/settings';

const section = { address: 'from-config:7233', namespace: 'cfg-ns', taskQueue: 'cfg-q' };

function toml(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rollout-settings-')), 'temporal.toml');
  writeFileSync(file, text);
  return file;
}

describe('temporalSettings', () => {
  it('nothing set: no address (the embedded dev server), the defaults', () => {
    expect(temporalSettings(loadEnv({}))).toEqual({ namespace: 'default', taskQueue: 'rollout' });
    expect(temporalClientProfile(loadEnv({})).connection).toEqual({});
  });

  it('the config section is used when the environment says nothing; TEMPORAL_* variables win over it', () => {
    expect(temporalSettings(loadEnv({}), section)).toEqual({
      address: 'from-config:7233',
      namespace: 'cfg-ns',
      taskQueue: 'cfg-q',
    });
    expect(
      temporalSettings(
        loadEnv({ TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_NAMESPACE: 'env-ns', ROLLOUT_TASK_QUEUE: 'q' }),
        section,
      ),
    ).toEqual({
      address: 'env:7233',
      namespace: 'env-ns',
      taskQueue: 'q',
    });
  });

  it('a temporal.toml profile (TEMPORAL_PROFILE) wins over the config section; variables win over the profile', () => {
    const file = toml(
      '[profile.default]\naddress = "default:7233"\n[profile.prod]\naddress = "prod:7233"\nnamespace = "prod-ns"\napi_key = "k"\n',
    );
    expect(temporalSettings(loadEnv({ TEMPORAL_CONFIG_FILE: file }), section).address).toBe('default:7233');
    const prod = loadEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(temporalSettings(prod, section)).toMatchObject({ address: 'prod:7233', namespace: 'prod-ns' });
    // An API key means TLS (Temporal Cloud).
    expect(temporalClientProfile(prod).connection).toEqual({ apiKey: 'k', tls: true });
    expect(
      temporalSettings(
        loadEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'env:1' }),
        section,
      ).address,
    ).toBe('env:1');
  });

  it('TLS from the variables: CA and client certificate are read from their files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-settings-'));
    for (const f of ['ca.pem', 'c.pem', 'c.key']) writeFileSync(path.join(dir, f), `${f}\n`);
    const { connection } = temporalClientProfile(
      loadEnv({
        TEMPORAL_ADDRESS: 'h:7233',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
        TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'c.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'c.key'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        TEMPORAL_GRPC_META_X_TEAM: 'ops',
      }),
    );
    const tls = connection.tls as {
      serverNameOverride?: string;
      serverRootCACertificate?: Uint8Array;
      clientCertPair?: { crt: Uint8Array; key: Uint8Array };
    };
    const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(text(tls.serverRootCACertificate)).toBe('ca.pem\n');
    expect(text(tls.clientCertPair?.crt)).toBe('c.pem\n');
    expect(text(tls.clientCertPair?.key)).toBe('c.key\n');
    expect(connection.metadata).toEqual({ 'x-team': 'ops' });
  });

  it('a named profile that does not exist is an error naming it', () => {
    const file = toml('[profile.default]\naddress = "default:7233"\n');
    expect(() => temporalSettings(loadEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }))).toThrow(
      TemporalClientConfigError,
    );
    expect(() => temporalSettings(loadEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }))).toThrow(
      /Profile 'nope' not found/,
    );
  });

  it('an invalid TEMPORAL_TLS is refused by loadEnv', () => {
    expect(() => loadEnv({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS: /);
  });
});

describe('an Env handed on with TEMPORAL_ADDRESS replaced (rollout dev gives the bot the server it started)', () => {
  it('uses the replaced address', () => {
    const env = loadEnv({});
    expect(temporalSettings({ ...env, TEMPORAL_ADDRESS: '127.0.0.1:17233' }).address).toBe('127.0.0.1:17233');
  });
});
