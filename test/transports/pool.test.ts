// The SSH transport's pool of reusable exec channels, against a real sshd (127.0.27.x): reuse, what a reused
// channel must still get right, and the channels that must never be reused.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { MarkerScanner, newPoolMarker, poolRequest, RUNS_DIR } from '../../activities/transports/remoteCommand';
import { SshTransport, type SshTransportOptions } from '../../activities/transports/ssh';
import { DetachedError, TransportError, type ScriptRequest } from '../../activities/transports/types';
import { startSshd, type SshdFixture } from '../support/sshd';

let sshd: SshdFixture;

beforeAll(async () => {
  sshd = await startSshd({ count: 2, baseAddress: '127.0.27.11', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
});

const transports: SshTransport[] = [];
function transport(opts: SshTransportOptions = {}): SshTransport {
  const t = new SshTransport({ killGraceMs: 500, ...opts });
  transports.push(t);
  return t;
}
afterAll(async () => {
  for (const t of transports) await t.close();
});

const run = (t: SshTransport, target: TargetPlan, script: string, extra: Partial<ScriptRequest> = {}) =>
  t.run({ target, script, env: {}, timeoutMs: 20_000, ...extra });

/** Waits for a condition (checked every 20 ms) for at most `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGKILLs the pool loops serving `target` (found by their SSH_CONNECTION, so no other test's processes). */
function killPoolLoops(target: TargetPlan): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0] !== 'bash' || cmd.at(-2) !== 'rollout-pool') continue;
      // Subshells of the loop show its command line too: the loop (a session leader, sshd's child) and the
      // subshell running a request's follower (in the loop's group) are killed; a run's supervisor (a group of
      // its own in the loop's session) is not: it stands for a script that outlives its connection.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [pgrp, session] = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .slice(2, 4)
        .map(Number);
      if (pgrp === Number(pid) && session !== Number(pid)) continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const conn = env.find((e) => e.startsWith('SSH_CONNECTION='))?.split(' ') ?? [];
      if (conn[2] !== target.host || conn[3] !== String(target.port)) continue;
      process.kill(Number(pid), 'SIGKILL');
      n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

describe('MarkerScanner and poolRequest', () => {
  it('finds the marker split over chunks, passes everything before it on, and reports what follows', () => {
    const marker = newPoolMarker();
    expect(marker).toMatch(/^rollout-end-[0-9a-f]{32}$/);
    expect(newPoolMarker()).not.toBe(marker);
    const text = `S reason=exited\nrollout-end-${'0'.repeat(32)}\nrollout-end-${marker.slice(12, 20)}\n${marker}\nnext`;
    for (const size of [1, 3, 7, text.length]) {
      let data = '';
      let rest: string | undefined;
      const sc = new MarkerScanner(
        marker,
        (c) => (data += c.toString()),
        (r) => (rest = (rest ?? '') + r.toString()),
      );
      for (let i = 0; i < text.length; i += size) sc.push(Buffer.from(text.slice(i, i + size)));
      expect(data).toBe(text.slice(0, text.indexOf(`${marker}\n`)));
      expect(rest).toBe('next');
      expect(sc.ended).toBe(true);
    }
    // Control: without the marker everything is passed on, nothing ends.
    let all = '';
    const none = new MarkerScanner(
      marker,
      (c) => (all += c.toString()),
      () => {
        throw new Error('no end expected');
      },
    );
    none.push(Buffer.from(`${marker.slice(0, 20)}`));
    none.push(Buffer.from('x\n'));
    expect(all).toBe(`${marker.slice(0, 20)}x\n`);
    expect(none.ended).toBe(false);
  });

  it('frames requests byte-exact and refuses NUL bytes (those go to a fresh channel)', () => {
    const m = newPoolMarker();
    const req = poolRequest(m, 'echo é', 'a\r\nb')!;
    expect(req.toString('utf8')).toBe(`${m} 7 4\necho éa\r\nb`);
    expect(poolRequest(m, 'echo', 'a\0b')).toBeUndefined();
    expect(() => poolRequest('x', 'echo', '')).toThrow(/marker/);
  });
});

describe('SshTransport channel pool', { timeout: 60_000 }, () => {
  it('reuses one exec channel for successive runs (a fresh channel per run without the pool)', async () => {
    const [target] = sshd.targetsFor('reuse');
    const t = transport();
    for (let i = 0; i < 4; i++) expect((await run(t, target!, `echo run ${i}`)).stdoutTail).toBe(`run ${i}\n`);
    expect({ conns: t.connectionsOpened, channels: t.channelsOpened, reuses: t.channelReuses }).toEqual({
      conns: 1,
      channels: 1,
      reuses: 3,
    });
    // Control: the same runs without the pool open a channel each.
    const fresh = transport({ poolChannels: 0 });
    for (let i = 0; i < 4; i++) expect((await run(fresh, target!, `echo run ${i}`)).exitCode).toBe(0);
    expect({ channels: fresh.channelsOpened, pooled: fresh.pooledChannelsOpened }).toEqual({ channels: 4, pooled: 0 });
  });

  it('over a reused channel: exit codes, stderr, outputs, env and the script byte-exact', async () => {
    const [target] = sshd.targetsFor('exact');
    const t = transport();
    expect((await run(t, target!, 'true')).exitCode).toBe(0);
    const r1 = await run(t, target!, 'echo to-err >&2; set_output answer "forty two"; exit 3');
    expect(r1).toMatchObject({ exitCode: 3, stderrTail: 'to-err\n', outputs: { answer: 'forty two' } });
    const value = `it's "quoted"\n$HOME \\ é ${'x'.repeat(3000)}`;
    const r2 = await run(t, target!, 'printf %s "$V"', { env: { V: value } });
    expect(r2.stdoutTail).toBe(value);
    // The script as stored on the target, byte for byte (CR, backslashes, quotes, UTF-8, no final newline).
    const script = `cat "$0"\n# ünïcødé \\ \r\n echo 'q' "d" $x\r\n${'# pad\n'.repeat(2000)}exit 0`;
    const r3 = await run(t, target!, script);
    expect(r3.exitCode).toBe(0);
    const expected = `${script}q d \r\n`; // (cat "$0", then the echo line ran)
    expect(r3.stdoutTail).toBe(expected.slice(-r3.stdoutTail.length));
    expect(r3.stdoutTail.length).toBeGreaterThan(1000);
    expect({ channels: t.channelsOpened, reuses: t.channelReuses }).toEqual({ channels: 1, reuses: 3 });
  });

  it('a script reading stdin gets EOF, not the next request', async () => {
    const [target] = sshd.targetsFor('stdin');
    const t = transport();
    const script = 'if read -r x; then echo "got [$x]"; else echo eof; fi; cat; echo end';
    const rs = await Promise.all([run(t, target!, script), run(t, target!, 'echo second')]);
    expect(rs.map((r) => r.stdoutTail)).toEqual(['eof\nend\n', 'second\n']);
    for (let i = 0; i < 2; i++) expect((await run(t, target!, script)).stdoutTail).toBe('eof\nend\n');
    expect(t.channelReuses).toBeGreaterThanOrEqual(2);
  });

  it('a script printing end-marker look-alikes does not confuse the framing', async () => {
    const [target] = sshd.targetsFor('marker');
    const t = transport();
    const fake = `rollout-end-${'ab'.repeat(16)}`;
    const script = `printf '%s\\n' ${fake} ${fake} >&2; printf '%s\\n%s 0 0\\n' ${fake} ${fake}; printf rollout-end-`;
    for (let i = 0; i < 2; i++) {
      const r = await run(t, target!, script);
      expect(r).toMatchObject({
        exitCode: 0,
        stdoutTail: `${fake}\n${fake} 0 0\nrollout-end-`,
        stderrTail: `${fake}\n${fake}\n`,
      });
    }
    expect((await run(t, target!, 'echo after')).stdoutTail).toBe('after\n');
    expect({ channels: t.channelsOpened, reuses: t.channelReuses }).toEqual({ channels: 1, reuses: 2 });
  });

  it('timeouts and attaches over a reused channel; a cancelled or detached run closes its channel', async () => {
    const [target] = sshd.targetsFor('lifecycle');
    const t = transport();
    await run(t, target!, 'true');
    const timedOut = await run(t, target!, 'sleep 10', { timeoutMs: 400 });
    expect(timedOut).toMatchObject({ outcome: 'timeout', timedOut: true });
    expect({ pooled: t.pooledChannelsOpened, reuses: t.channelReuses }).toEqual({ pooled: 1, reuses: 1 });

    // Cancel mid-run: the channel is closed, the next run opens a new one.
    const ac = new AbortController();
    const cancelled = await run(t, target!, 'sleep 10', { signal: ac.signal, onClaim: () => ac.abort() });
    expect(cancelled).toMatchObject({ outcome: 'cancelled', aborted: true });
    expect((await run(t, target!, 'echo x')).stdoutTail).toBe('x\n');
    expect({ pooled: t.pooledChannelsOpened, reuses: t.channelReuses }).toEqual({ pooled: 2, reuses: 2 });

    // Detach (worker shutdown) mid-run: closed too; the run goes on and an attach reads its outcome.
    const d = new AbortController();
    const detached = await run(t, target!, 'sleep 0.5; echo done', {
      runId: 'pool-detach',
      detachSignal: d.signal,
      onClaim: () => d.abort(),
    }).catch((e: unknown) => e);
    expect(detached).toBeInstanceOf(DetachedError);
    const attached = await run(t, target!, 'true', { runId: 'pool-detach', attachOnly: true });
    expect(attached).toMatchObject({ exitCode: 0, stdoutTail: 'done\n', attached: true });
    // (the detached run went to the channel 'echo x' opened, which was then closed; the attach opened a third)
    expect({ pooled: t.pooledChannelsOpened, reuses: t.channelReuses }).toEqual({ pooled: 3, reuses: 3 });
    // …and that clean one is reused.
    expect((await run(t, target!, 'true', { runId: 'pool-detach', attachOnly: true })).exitCode).toBe(0);
    expect({ pooled: t.pooledChannelsOpened, reuses: t.channelReuses }).toEqual({ pooled: 3, reuses: 4 });
  });

  it('a channel whose loop is killed mid-run is not reused; one killed while idle still runs the next script once', async () => {
    const [target] = sshd.targetsFor('killed');
    const t = transport();
    await run(t, target!, 'true');
    // Mid-run: the loop and the subshell running the follower are killed (both are `bash … rollout-pool`). The
    // call says the connection was lost and an attach reads the outcome (or, were the follower to outlive the
    // loop, it still reports it); either way the channel never serves another request.
    let attached = false;
    const r = await run(t, target!, 'sleep 0.4; echo done', {
      runId: 'pool-killed',
      onClaim: () => expect(killPoolLoops(target!)).toBeGreaterThan(0),
    }).catch(async (e: unknown) => {
      expect(e).toBeInstanceOf(TransportError);
      attached = true;
      return run(t, target!, 'true', { runId: 'pool-killed', attachOnly: true });
    });
    expect(r).toMatchObject({ exitCode: 0, stdoutTail: 'done\n' });
    expect((await run(t, target!, 'echo next')).stdoutTail).toBe('next\n');
    // The killed run went to the first channel, which served nothing more: the attach (if any) opened a second
    // channel and 'echo next' reused it; otherwise 'echo next' opened the second.
    expect({ pooled: t.pooledChannelsOpened, reuses: t.channelReuses }).toEqual({
      pooled: 2,
      reuses: attached ? 2 : 1,
    });

    // Idle: killed right before the next request is written (its close may not have arrived yet).
    expect(killPoolLoops(target!)).toBeGreaterThan(0);
    const once = await run(t, target!, 'echo x >> once.txt; echo ran');
    expect(once).toMatchObject({ exitCode: 0, stdoutTail: 'ran\n' });
    expect(readFileSync(join(target!.workdir, 'once.txt'), 'utf8')).toBe('x\n');
  });

  it('runs beyond the cap get fresh channels; idle channels close after poolIdleMs', async () => {
    const [a, b] = sshd.targetsFor('cap');
    const t = transport({ poolChannels: 2, poolIdleMs: 2000 });
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => run(t, i % 2 ? b! : a!, `sleep 0.3; echo ${i}`)));
    expect(rs.map((r) => r.stdoutTail)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n', '5\n']);
    // Per connection (one per target): 2 pooled + 1 fresh.
    expect({ conns: t.connectionsOpened, pooled: t.pooledChannelsOpened, channels: t.channelsOpened }).toEqual({
      conns: 2,
      pooled: 4,
      channels: 6,
    });
    await until('all four pooled channels idle', async () => (await t.pooledChannels()).idle === 4, 1500);
    expect(await t.pooledChannels()).toEqual({ open: 4, idle: 4 });
    await until('idle channels closed', async () => (await t.pooledChannels()).open === 0);
    expect((await run(t, a!, 'echo again')).stdoutTail).toBe('again\n');
    expect(t.pooledChannelsOpened).toBe(5);
  });

  it('attaches to runs laid out by the previous wrapper version (finished, and still running)', async () => {
    const [target] = sshd.targetsFor('old layout');
    const t = transport();
    // Finished: the files the previous version left (no wake FIFO, no .rollout/swept).
    const dir = join(target!.workdir, RUNS_DIR, 'r-old');
    mkdirSync(join(dir, 'launched'), { recursive: true });
    writeFileSync(join(dir, 'out'), 'old out\n');
    writeFileSync(join(dir, 'err'), 'old err\n');
    writeFileSync(join(dir, 'started'), '1700000000000');
    writeFileSync(join(dir, 'alive'), '');
    writeFileSync(join(dir, 'status'), 'reason=exited exit=4 started=1700000000000 ended=1700000001500\n');
    const r = await run(t, target!, 'true', { runId: 'r-old', attachOnly: true });
    expect(r).toMatchObject({ outcome: 'exited', exitCode: 4, stdoutTail: 'old out\n', stderrTail: 'old err\n' });
    expect(r).toMatchObject({ startedAtMs: 1700000000000, endedAtMs: 1700000001500, durationMs: 1500 });
    // Running: its supervisor (here a stand-in holding the alive lock) publishes the status later.
    const live = join(target!.workdir, RUNS_DIR, 'r-old-live');
    mkdirSync(join(live, 'launched'), { recursive: true });
    writeFileSync(join(live, 'out'), '');
    writeFileSync(join(live, 'err'), '');
    const sup = spawn(
      'flock',
      [
        join(live, 'alive'),
        'bash',
        '-c',
        `sleep 0.6; echo late >> out; echo 'reason=exited exit=0 started=1 ended=2' > status.tmp; ln status.tmp status`,
      ],
      { cwd: live, stdio: 'ignore' },
    );
    try {
      const locked = (): boolean => {
        try {
          execFileSync('flock', ['-n', join(live, 'alive'), 'true']);
          return false;
        } catch {
          return true;
        }
      };
      await until('the stand-in supervisor holds the alive lock', locked);
      const r2 = await run(t, target!, 'true', { runId: 'r-old-live', attachOnly: true });
      expect(r2).toMatchObject({ outcome: 'exited', exitCode: 0, stdoutTail: 'late\n', attached: true });
    } finally {
      sup.kill();
    }
  });

  it('a script holding a NUL byte goes to a fresh channel, byte-exact', async () => {
    const [target] = sshd.targetsFor('nul');
    const t = transport();
    const script = 'echo ok; wc -c < "$0"\n# \0 nul\n';
    const r = await run(t, target!, script);
    expect(r).toMatchObject({ exitCode: 0, stdoutTail: `ok\n${Buffer.byteLength(script)}\n` });
    expect({ pooled: t.pooledChannelsOpened, channels: t.channelsOpened }).toEqual({ pooled: 0, channels: 1 });
  });
});
