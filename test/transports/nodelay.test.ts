// TCP_NODELAY on the SSH socket: a short exec on a warm connection must not wait for Nagle + delayed ACK (~40 ms a
// round trip). The control (tcpNoDelay: false) shows the measurement can tell the difference on this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshTransport } from '../../activities/transports/ssh';
import { startSshd, type SshdFixture } from '../support/sshd';

let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd({ count: 1, baseAddress: '127.0.24.11', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
});

/** Median wall time of `n` runs of `true` on one warm connection. */
async function medianExecMs(t: SshTransport, label: string, n = 9): Promise<number> {
  const [target] = sshd.targetsFor(label);
  await t.run({ target: target!, script: 'true', env: {}, timeoutMs: 10_000 }); // connect, warm up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await t.run({ target: target!, script: 'true', env: {}, timeoutMs: 10_000 });
    times.push(performance.now() - t0);
    expect(r.exitCode).toBe(0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}

describe('SSH socket TCP_NODELAY', { timeout: 60_000 }, () => {
  it('a warm run of a trivial script is far quicker with TCP_NODELAY than without', async () => {
    const fast = new SshTransport();
    const slow = new SshTransport({ tcpNoDelay: false });
    try {
      const withNoDelay = await medianExecMs(fast, 'nodelay-on');
      const withNagle = await medianExecMs(slow, 'nodelay-off');
      console.log(`warm run of 'true': ${withNoDelay.toFixed(1)} ms with TCP_NODELAY, ${withNagle.toFixed(1)} ms without`);
      expect(withNagle).toBeGreaterThan(withNoDelay + 30);
      expect(withNoDelay).toBeLessThan(60);
    } finally {
      await fast.close();
      await slow.close();
    }
  });
});
