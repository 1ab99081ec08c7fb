// SSH connections are keyed by everything that decides trust (issue 10): the private key (path and content),
// known_hosts (path and content) and the strictness. A cached connection is not reused once any of them changes;
// real sshd servers on 127.0.20.x.
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshTransport } from '../../activities/transports/ssh';
import { TransportError } from '../../activities/transports/types';
import type { TargetPlan } from '../../domain/plan';
import { startSshd, type SshdFixture } from '../support/sshd';

const execFileP = promisify(execFile);
let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd({ count: 1, baseAddress: '127.0.20.11', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
});

const run = (t: SshTransport, target: TargetPlan) => t.run({ target, script: 'echo ok', env: {}, timeoutMs: 10_000 });

async function failure(p: Promise<unknown>): Promise<TransportError> {
  const e = await p.then(
    () => new Error('expected a TransportError, the run succeeded (a cached connection was reused?)'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TransportError);
  return e as TransportError;
}

describe('SSH connection cache keyed by trust', { timeout: 60_000 }, () => {
  it('does not reuse a connection after the private key file changes', async () => {
    const [base] = sshd.targetsFor('key-change');
    const keyPath = join(sshd.dir, 'trust-key');
    await copyFile(sshd.keyPath, keyPath);
    const target: TargetPlan = { ...base!, privateKeyPath: keyPath };
    const t = new SshTransport();
    try {
      expect((await run(t, target)).exitCode).toBe(0);
      // Control: nothing changed, the connection is reused.
      expect((await run(t, target)).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(1);
      // Same path, another key (not authorised on the server): a reused connection would still succeed.
      const other = join(sshd.dir, 'other-key');
      await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      await writeFile(keyPath, await readFile(other, 'utf8'));
      const e = await failure(run(t, target));
      expect(e.kind).toBe('auth-failed');
      // And back to the authorised key: a fresh connection again.
      await copyFile(sshd.keyPath, keyPath);
      expect((await run(t, target)).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('does not reuse a connection after known_hosts or the strictness changes', async () => {
    const [base] = sshd.targetsFor('known-hosts-change');
    const khPath = join(sshd.dir, 'trust-known-hosts');
    await copyFile(sshd.knownHostsPath, khPath);
    const target: TargetPlan = { ...base!, knownHostsPath: khPath, strictHostKeyChecking: true };
    const t = new SshTransport();
    try {
      expect((await run(t, target)).exitCode).toBe(0);
      expect((await run(t, target)).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(1);
      // The host's entry removed: the next rollout must not trust the server on the old connection.
      await writeFile(khPath, '# emptied by the operator\n');
      const e = await failure(run(t, target));
      expect(e.kind).toBe('host-key-unknown');
      // Strict checking turned off: connects (a new connection) without known_hosts.
      expect((await run(t, { ...target, strictHostKeyChecking: false })).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(2);
      // known_hosts restored, strict again: another new connection (not the unchecked one).
      await copyFile(sshd.knownHostsPath, khPath);
      expect((await run(t, target)).exitCode).toBe(0);
      expect(t.connectionsOpened).toBe(3);
    } finally {
      await t.close();
    }
  });
});
