// SSH-specific behaviour against real sshd servers: connection caching, and readable connect errors.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { SshTransport } from '../../activities/transports/ssh';
import { TransportError, type TransportErrorKind } from '../../activities/transports/types';
import { startSshd, type SshdFixture } from '../support/sshd';

const execFileP = promisify(execFile);

let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd({ count: 2, baseAddress: '127.0.1.11', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
});

async function expectTransportError(
  p: Promise<unknown>,
  kind: TransportErrorKind,
  message?: RegExp,
): Promise<TransportError> {
  const err = await p.then(
    () => {
      throw new Error(`expected a TransportError ${kind}, got a result`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  const te = err as TransportError;
  expect({ kind: te.kind, message: te.message }).toMatchObject({ kind, message: message ?? expect.any(String) });
  return te;
}

const ok = (t: SshTransport, target: TargetPlan, script = 'echo ok') =>
  t.run({ target, script, env: {}, timeoutMs: 10_000 });

describe('SshTransport connections', { timeout: 30_000 }, () => {
  it('uses one connection per target for successive and concurrent runs', async () => {
    const t = new SshTransport();
    const [t1, t2] = sshd.targetsFor('reuse');
    const before = [sshd.acceptedLogins(0), sshd.acceptedLogins(1)];
    try {
      expect((await ok(t, t1!)).stdoutTail).toBe('ok\n');
      expect((await ok(t, t1!)).stdoutTail).toBe('ok\n');
      const rs = await Promise.all([ok(t, t1!), ok(t, t2!), ok(t, t2!), ok(t, t1!)]);
      expect(rs.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
      expect(t.connectionsOpened).toBe(2);
      expect(sshd.acceptedLogins(0) - before[0]!).toBe(1);
      expect(sshd.acceptedLogins(1) - before[1]!).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('re-opens a connection that dropped, and after close()', async () => {
    const t = new SshTransport();
    const [t1] = sshd.targetsFor('drop');
    try {
      await ok(t, t1!);
      // Kill the sshd process serving this very connection (an ancestor of the script).
      const killServer = [
        'p=$$',
        'while [ "$p" -gt 1 ]; do',
        '  p=$(ps -o ppid= -p "$p" | tr -d " ")',
        '  case "$(ps -o args= -p "$p")" in sshd:*@notty*|sshd:*priv*) kill -9 "$p"; break;; esac',
        'done',
        // the original keeps running after the drop, and keeps the target locked
        'sleep 1.5',
        'echo finished > original.txt',
      ].join('\n');
      const dropped = await t
        .run({ target: t1!, script: killServer, env: {}, timeoutMs: 10_000 })
        .catch((e: unknown) => e);
      expect(dropped).toBeInstanceOf(TransportError);
      expect((dropped as TransportError).kind).toBe('unreachable');
      expect((dropped as TransportError).message).toMatch(/connection lost/);
      // A retry on a fresh connection waits for the still-running original (target lock), then runs.
      const retry = await ok(t, t1!, 'cat original.txt');
      expect(retry.exitCode).toBe(0);
      expect(retry.stdoutTail).toBe('finished\n');
      expect(t.connectionsOpened).toBe(2);
      await t.close();
      expect((await ok(t, t1!)).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('takes the private key from an environment variable (privateKeyEnv), also with escaped newlines', async () => {
    const key = await readFile(sshd.keyPath, 'utf8');
    const t = new SshTransport({
      env: { ROLLOUT_TEST_KEY: key, ROLLOUT_TEST_KEY_ONE_LINE: key.replace(/\n/g, '\\n') },
    });
    try {
      const [t1] = sshd.targetsFor('key env');
      expect((await ok(t, { ...t1!, privateKeyPath: undefined, privateKeyEnv: 'ROLLOUT_TEST_KEY' })).exitCode).toBe(0);
      const [t1b] = sshd.targetsFor('key env one line');
      const other = {
        ...t1b!,
        name: 'other-name',
        privateKeyPath: undefined,
        privateKeyEnv: 'ROLLOUT_TEST_KEY_ONE_LINE',
      };
      expect((await ok(t, other)).exitCode).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('connects without known_hosts when strictHostKeyChecking is off', async () => {
    const t = new SshTransport();
    try {
      const [t1] = sshd.targetsFor('no strict');
      const target = { ...t1!, knownHostsPath: join(sshd.dir, 'does-not-exist'), strictHostKeyChecking: false };
      expect((await ok(t, target)).exitCode).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('SshTransport connect errors', { timeout: 30_000 }, () => {
  const t = new SshTransport({ readyTimeoutMs: 3000 });
  afterAll(async () => {
    await t.close();
  });

  it('connection refused', async () => {
    const [t1] = sshd.targetsFor('refused');
    const err = await expectTransportError(
      ok(t, { ...t1!, port: 2299 }),
      'connection-refused',
      /t1 \(.*@127\.0\.1\.11:2299\): connection refused/,
    );
    expect(err.retryable).toBe(true);
  });

  it('authentication failure with a key the server does not know', async () => {
    const wrongKey = join(sshd.dir, 'wrong_key');
    await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]).catch(() => undefined);
    const [t1] = sshd.targetsFor('auth');
    const err = await expectTransportError(
      ok(t, { ...t1!, privateKeyPath: wrongKey }),
      'auth-failed',
      /authentication failed/,
    );
    expect(err.retryable).toBe(false);
  });

  it('host-key mismatch when known_hosts holds another key for the host', async () => {
    const [t1] = sshd.targetsFor('mismatch');
    const otherKey = (await readFile(sshd.servers[1]!.hostKeyPubPath, 'utf8'))
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(' ');
    const kh = join(sshd.dir, 'known_hosts_mismatch');
    await writeFile(kh, `[${t1!.host}]:${t1!.port} ${otherKey}\n`);
    const err = await expectTransportError(
      ok(t, { ...t1!, knownHostsPath: kh }),
      'host-key-mismatch',
      /HOST KEY CHANGED.*SHA256:/,
    );
    expect(err.retryable).toBe(false);
  });

  it('a key marked @revoked is refused', async () => {
    const [t1] = sshd.targetsFor('revoked');
    const ownKey = (await readFile(sshd.servers[0]!.hostKeyPubPath, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    const kh = join(sshd.dir, 'known_hosts_revoked');
    await writeFile(kh, `${await readFile(sshd.knownHostsPath, 'utf8')}@revoked * ${ownKey}\n`);
    await expectTransportError(ok(t, { ...t1!, knownHostsPath: kh }), 'host-key-mismatch', /revoked/);
  });

  it('unknown host: no entry for it, or no known_hosts file at all', async () => {
    const [t1] = sshd.targetsFor('unknown');
    const kh = join(sshd.dir, 'known_hosts_other_only');
    await writeFile(kh, sshd.servers[1]!.knownHostsLines.join('\n') + '\n');
    await expectTransportError(ok(t, { ...t1!, knownHostsPath: kh }), 'host-key-unknown', /not in known_hosts/);
    await expectTransportError(
      ok(t, { ...t1!, knownHostsPath: join(sshd.dir, 'nope') }),
      'host-key-unknown',
      /cannot read known_hosts/,
    );
  });

  it('missing key: no file, unset variable, nothing configured', async () => {
    const [t1] = sshd.targetsFor('key missing');
    await expectTransportError(ok(t, { ...t1!, privateKeyPath: join(sshd.dir, 'nokey') }), 'key-missing', /ENOENT/);
    await expectTransportError(
      ok(t, { ...t1!, privateKeyPath: undefined, privateKeyEnv: 'ROLLOUT_SURELY_UNSET_VAR' }),
      'key-missing',
      /ROLLOUT_SURELY_UNSET_VAR/,
    );
    await expectTransportError(ok(t, { ...t1!, privateKeyPath: undefined }), 'key-missing');
    const garbage = join(sshd.dir, 'garbage_key');
    await writeFile(garbage, 'not a key\n');
    await expectTransportError(ok(t, { ...t1!, privateKeyPath: garbage }), 'key-missing', /cannot be used/);
  });

  it('connect timeout when the server never completes the handshake', async () => {
    // A TCP server that accepts and stays silent.
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(2222, '127.0.1.19', r));
    try {
      const quick = new SshTransport({ readyTimeoutMs: 500 });
      const [t1] = sshd.targetsFor('timeout');
      const t0 = Date.now();
      const err = await expectTransportError(
        ok(quick, { ...t1!, host: '127.0.1.19', strictHostKeyChecking: false }),
        'connect-timeout',
        /no SSH handshake within 500 ms/,
      );
      expect(err.retryable).toBe(true);
      expect(Date.now() - t0).toBeLessThan(3000);
      await quick.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('unreachable when the host name does not resolve', async () => {
    const [t1] = sshd.targetsFor('unreachable');
    await expectTransportError(ok(t, { ...t1!, host: 'no-such-host.invalid' }), 'unreachable', /no-such-host\.invalid/);
  });

  it('a failed connect is not cached: the next run connects', async () => {
    const [t1] = sshd.targetsFor('not cached');
    const kh = join(sshd.dir, 'known_hosts_late');
    await writeFile(kh, '');
    const target = { ...t1!, knownHostsPath: kh };
    await expectTransportError(ok(t, target), 'host-key-unknown');
    await writeFile(kh, await readFile(sshd.knownHostsPath, 'utf8'));
    expect((await ok(t, target)).exitCode).toBe(0);
  });
});
