// TCP_NODELAY on the SSH socket: ssh2 never sets it, so every small SSH packet waited for Nagle + delayed ACK
// (~40 ms a round trip). openSocket (what SshTransport hands to ssh2) turns it on; the control (noDelay false)
// shows the measurement can tell the difference on this machine.
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket } from '../../activities/transports/ssh';
import { startSshd, type SshdFixture } from '../support/sshd';

let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd({ count: 1, baseAddress: '127.0.24.11', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
});

/** Median wall time of `n` bare execs of `true` on one warm connection over a socket from openSocket. */
async function medianExecMs(noDelay: boolean, n = 11): Promise<number> {
  const [target] = sshd.targetsFor(`nodelay-${noDelay}`);
  const sock = await openSocket(target!.host, target!.port, 10_000, noDelay);
  const ssh = new NodeSSH();
  try {
    await ssh.connect({ sock, username: target!.user, privateKey: await readFile(sshd.keyPath, 'utf8') });
    await ssh.execCommand('true');
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await ssh.execCommand('true');
      times.push(performance.now() - t0);
      expect(r.code).toBe(0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(n / 2)]!;
  } finally {
    ssh.dispose();
    sock.destroy();
  }
}

// A measurement, not a gate: on a loaded 2-core machine the medians drown in scheduling noise. Run it with
// ROLLOUT_MEASURE=1 on a quiet machine (measured there: see README "Performance").
describe('SSH socket TCP_NODELAY', { timeout: 60_000 }, () => {
  it.runIf(process.env.ROLLOUT_MEASURE === '1')(
    'a bare exec on a warm connection does not wait for delayed ACKs',
    async () => {
      const withNoDelay = await medianExecMs(true);
      const withNagle = await medianExecMs(false);
      console.log(
        `bare exec of 'true': ${withNoDelay.toFixed(1)} ms with TCP_NODELAY, ${withNagle.toFixed(1)} ms without`,
      );
      expect(withNagle).toBeGreaterThan(withNoDelay + 25);
    },
  );

  it('openSocket reports a refused port as ECONNREFUSED', async () => {
    await expect(openSocket('127.0.24.12', 1, 5_000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
