// Durable runs on a target, through each transport (local, and SSH to a real sshd): a run id starts a script at most
// once; attaching waits for a running run or reads a finished one; the timeout holds without anyone following;
// detaching leaves the script running; housekeeping removes recorded and old runs but never a live one.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { LocalTransport } from '../../activities/transports/local';
import { RUNS_DIR, SWEEP_EVERY_MS } from '../../activities/transports/remoteCommand';
import { SshTransport } from '../../activities/transports/ssh';
import { DetachedError, TransportError, type ScriptRequest, type Transport } from '../../activities/transports/types';
import { startSshd, type SshdFixture } from '../support/sshd';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const count = (t: TargetPlan, f: string): number =>
  existsSync(join(t.workdir, f)) ? readFileSync(join(t.workdir, f), 'utf8').split('\n').filter(Boolean).length : 0;
const runs = (t: TargetPlan): string[] =>
  existsSync(join(t.workdir, RUNS_DIR)) ? readdirSync(join(t.workdir, RUNS_DIR)).sort() : [];

let sshd: SshdFixture | undefined;
let localRoot = '';

beforeAll(async () => {
  localRoot = await mkdtemp(join(tmpdir(), 'rollout-runonce-'));
  sshd = await startSshd({ count: 1, baseAddress: '127.0.5.41', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  await rm(localRoot, { recursive: true, force: true });
});

const setups: Array<{ name: string; make: () => { transport: Transport; target(n: string): TargetPlan } }> = [
  {
    name: 'local',
    make: () => ({
      transport: new LocalTransport({ killGraceMs: 500 }),
      target: (n) => ({
        name: 'local',
        transport: 'local',
        host: 'localhost',
        port: 0,
        user: '',
        tags: [],
        workdir: join(localRoot, n.replace(/\W+/g, '_')),
        strictHostKeyChecking: false,
        variables: {},
      }),
    }),
  },
  {
    name: 'ssh',
    make: () => ({ transport: new SshTransport({ killGraceMs: 500 }), target: (n) => sshd!.targetsFor(n)[0]! }),
  },
];

describe.each(setups)('durable runs over the $name transport', ({ make }) => {
  const s = make();
  const it = (name: string, fn: () => Promise<void>): void => {
    vitestIt.concurrent(name, fn, 30_000);
  };
  afterAll(async () => {
    await s.transport.close();
  });
  const run = (target: TargetPlan, script: string, extra: Partial<ScriptRequest> = {}) =>
    s.transport.run({ target, script, env: {}, timeoutMs: 20_000, ...extra });

  it('a run id starts its script once: a second start attaches and reads the recorded outcome and output', async () => {
    const t = s.target('once');
    const script = 'echo run >> runs; set_output k v; echo out; echo err >&2; exit 3';
    const a = await run(t, script, { runId: 'r-once' });
    const b = await run(t, 'echo SHOULD NOT RUN >> runs', { runId: 'r-once' });
    expect(a).toMatchObject({ exitCode: 3, outcome: 'exited', attached: false, runId: 'r-once', outputs: { k: 'v' } });
    expect(b).toMatchObject({
      exitCode: 3,
      outcome: 'exited',
      attached: true,
      outputs: { k: 'v' },
      stderrTail: 'err\n',
    });
    expect(b.stdoutTail).toBe(a.stdoutTail);
    expect(count(t, 'runs')).toBe(1);
    expect(b.startedAtMs).toBe(a.startedAtMs);
  });

  it('concurrent starts of one run id: one script, both see its outcome', async () => {
    const t = s.target('racing');
    const script = 'echo run >> runs; sleep 0.5; echo finished';
    const rs = await Promise.all([1, 2, 3].map(() => run(t, script, { runId: 'r-race' })));
    expect(count(t, 'runs')).toBe(1);
    expect(rs.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(rs.filter((r) => !r.attached)).toHaveLength(1);
    for (const r of rs) expect(r.stdoutTail).toBe('finished\n');
  });

  it('detaching leaves the script running; attaching later waits for it and gets the whole output', async () => {
    const t = s.target('detach');
    const detach = new AbortController();
    const first = run(t, 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.3; done; echo run >> runs', {
      runId: 'r-detach',
      detachSignal: detach.signal,
      onLine: (l) => l === 'line 2' && detach.abort(),
    });
    await expect(first).rejects.toBeInstanceOf(DetachedError);
    expect(count(t, 'runs')).toBe(0); // still running
    const later = await run(t, 'true', { runId: 'r-detach', attachOnly: true });
    expect(later).toMatchObject({ exitCode: 0, attached: true });
    expect(later.stdoutTail).toBe([1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join(''));
    expect(count(t, 'runs')).toBe(1);
  });

  it('the timeout is enforced on the target even when nobody follows the run', async () => {
    const t = s.target('unattended timeout');
    const detach = new AbortController();
    detach.abort();
    await expect(
      run(t, 'sleep 30; echo run >> runs', { runId: 'r-tmo', timeoutMs: 700, detachSignal: detach.signal }),
    ).rejects.toBeInstanceOf(DetachedError);
    // Detached before it was even sent: nothing started.
    expect(runs(t)).toEqual([]);
    const started = run(t, 'sleep 30; echo run >> runs', { runId: 'r-tmo', timeoutMs: 700, onLine: () => undefined });
    const r = await started;
    expect(r).toMatchObject({ outcome: 'timeout', timedOut: true, exitCode: null });
    // And with a follower that gives up at once:
    const d2 = new AbortController();
    await expect(
      run(t, 'echo begun; sleep 30; echo run >> runs', {
        runId: 'r-tmo2',
        timeoutMs: 700,
        detachSignal: d2.signal,
        onClaim: () => d2.abort(),
      }),
    ).rejects.toBeInstanceOf(DetachedError);
    await sleep(2500);
    const again = await run(t, 'true', { runId: 'r-tmo2', attachOnly: true });
    expect(again).toMatchObject({ outcome: 'timeout', timedOut: true });
    expect(count(t, 'runs')).toBe(0);
  });

  it('a workdir that cannot be created: a non-retryable error that says nothing started', async () => {
    const t = { ...s.target('bad workdir'), workdir: '/dev/null/not-a-dir' };
    const err = await run(t, 'echo run', { runId: 'r-bad' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ retryable: false, phase: 'connect' });
  });

  it('attach only: a run id the target does not have is "gone" (nothing starts)', async () => {
    const t = s.target('gone');
    const r = await run(t, 'echo run >> runs', { runId: 'r-missing', attachOnly: true });
    expect(r.outcome).toBe('gone');
    expect(count(t, 'runs')).toBe(0);
  });

  it('a run whose supervisor vanished without an outcome is "lost" (unknown), not a failure', async () => {
    const t = s.target('lost');
    const detach = new AbortController();
    await run(t, 'sleep 30', { runId: 'r-lost', detachSignal: detach.signal, onClaim: () => detach.abort() }).catch(
      () => undefined,
    );
    const dir = join(t.workdir, RUNS_DIR, 'r-lost');
    for (let i = 0; i < 100 && !existsSync(join(dir, 'pgid')); i++) await sleep(50);
    // The target "reboots": supervisor and script killed, nobody writes the outcome.
    execFileSync('bash', ['-c', `kill -KILL -- -$(cat '${dir}/supervisor') -$(cat '${dir}/pgid')`]);
    const r = await run(t, 'true', { runId: 'r-lost', attachOnly: true });
    expect(r).toMatchObject({ outcome: 'lost', exitCode: null, timedOut: false, aborted: false });
  });

  it('housekeeping: recorded runs are removed by the next start, old finished and orphaned ones by age, live ones never', async () => {
    const t = s.target('housekeeping');
    await run(t, 'true', { runId: 'r-a' });
    await run(t, 'true', { runId: 'r-b' });
    // Starts that return as soon as the run exists (housekeeping happens before the new run waits for the lock).
    const startOnly = async (runId: string, script: string, extra: Partial<ScriptRequest> = {}): Promise<void> => {
      const d = new AbortController();
      await expect(
        run(t, script, { runId, detachSignal: d.signal, onClaim: () => d.abort(), ...extra }),
      ).rejects.toBeInstanceOf(DetachedError);
    };
    await startOnly('r-live', 'sleep 60');
    expect(runs(t)).toEqual(['r-a', 'r-b', 'r-live']);
    // r-a is recorded by the workflow: the next start removes it. A live run listed by mistake stays.
    await startOnly('r-c', 'true', { cleanupRunIds: ['r-a', 'r-live'] });
    expect(runs(t)).toEqual(['r-b', 'r-c', 'r-live']);
    // Age: r-b finished 8 days ago; r-live's directory is as old but its supervisor is alive.
    const old = new Date(Date.now() - 8 * 24 * 3600_000);
    utimesSync(join(t.workdir, RUNS_DIR, 'r-b', 'status'), old, old);
    utimesSync(join(t.workdir, RUNS_DIR, 'r-live'), old, old);
    // The age sweep runs at most every SWEEP_EVERY_MS per workdir: the last one (at r-b's start) was just now…
    await startOnly('r-d', 'true');
    expect(runs(t)).toEqual(['r-b', 'r-c', 'r-d', 'r-live']);
    // …so let that be longer ago: the next start sweeps.
    writeFileSync(join(t.workdir, '.rollout', 'swept'), String(Date.now() - SWEEP_EVERY_MS - 1000));
    await startOnly('r-e', 'true');
    expect(runs(t)).toEqual(['r-c', 'r-d', 'r-e', 'r-live']);
    // Cancel the live one (attaching with an aborting signal kills it); the queued runs then go.
    const ac = new AbortController();
    const killed = await run(t, 'true', {
      runId: 'r-live',
      attachOnly: true,
      signal: ac.signal,
      onClaim: () => ac.abort(),
    });
    expect(killed).toMatchObject({ outcome: 'cancelled', aborted: true });
    for (const id of ['r-c', 'r-d', 'r-e'])
      expect(await run(t, 'true', { runId: id, attachOnly: true })).toMatchObject({ exitCode: 0 });
  });
});
