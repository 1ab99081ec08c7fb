// Run once (issue 9), network faults: the path to a target cut (iptables DROP on its loopback address, as in the
// playbook) in the middle of a script. Real sshd, real Temporal, an in-process worker per scenario; scripts leave
// markers on their targets (`runs`: one line per start, `finished`: one per completion). Every case runs beside its
// CONTROL (RunSettings.rerunOnRetry: a new run on every retry, the behaviour before run-once), which must count two.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decide, getTargets, startRollout } from '../../src/temporal/client';
import { SshTransport } from '../../activities/transports/ssh';
import type { RunSettings } from '../../activities/scripts';
import type { TargetPlan } from '../../domain/plan';
import type { ChildResult } from '../../workflows/messages';
import { cutPath, lineCount, restoreAllPaths, restorePath, sleep, tickingScript, until } from '../support/faults';
import { configFor, planFor, readTargetFile } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';

let sshd: SshdFixture;
const envs: TemporalTestEnv[] = [];
const transports: SshTransport[] = [];

beforeAll(async () => {
  sshd = await startSshd({ count: 4, baseAddress: '127.0.5.21', namePrefix: 'web' });
});

afterEach(() => {
  restoreAllPaths();
});

afterAll(async () => {
  restoreAllPaths();
  for (const e of envs) await e.close();
  for (const t of transports) await t.close();
  await sshd?.stop();
});

/** A Temporal env with its own in-process worker: quick loss detection, the given lost-contact bound. */
async function workerWith(runs: RunSettings): Promise<TemporalTestEnv> {
  const env = await temporalTestEnv('runonce-net');
  envs.push(env);
  const ssh = new SshTransport({ readyTimeoutMs: 2000, keepaliveIntervalMs: 2000, staleMs: 3000 });
  transports.push(ssh);
  await env.startWorker({ transports: { ssh }, runs: { retryDelayMs: 1000, ...runs } });
  return env;
}

function appPlan(t: TargetPlan, seconds: number) {
  const cfg = configFor([t], {
    app: {
      targets: ['tag:web'],
      // An unknown outcome goes to a human even where a failure would fail the rollout.
      onFailure: 'fail',
      approvers: ['U_ALICE'],
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 1,
          childSteps: [{ name: 'install', timeoutSec: 120, script: tickingScript(seconds) }],
        },
      ],
    },
  });
  return planFor(cfg, 'app');
}

const childOf = async (env: TemporalTestEnv, rolloutId: string, t: TargetPlan): Promise<ChildResult | undefined> =>
  (await getTargets(env.client, rolloutId, { target: t.name })).targets[0]?.steps[0]?.children[0];

describe('run once: the path to a target is cut mid-script', () => {
  it('cut for longer than the heartbeat timeout, then restored: one run, its outcome read once the path is back', async () => {
    const seconds = 8;
    const cutMs = 35_000; // the activity heartbeat timeout is 30 s; the lost-contact bound here is 90 s
    const scenario = async (control: boolean, i: number) => {
      const env = await workerWith({ lostContactBoundMs: 90_000, ...(control ? { rerunOnRetry: true } : {}) });
      const t = sshd.targetsFor(`cut-${control ? 'control' : 'main'}`)[i]!;
      const handle = await startRollout(env.client, env.taskQueue, appPlan(t, seconds));
      await until(() => lineCount(t, 'ticks') >= 2, 60_000, 'two ticks');
      cutPath(t.host);
      let restoredAt = 0;
      try {
        await sleep(cutMs);
        // The script went on without the connection and finished during the cut.
        expect(lineCount(t, 'finished')).toBe(1);
      } finally {
        restorePath(t.host);
        restoredAt = Date.now();
      }
      const result = await handle.result();
      const doneAt = Date.now();
      return {
        result,
        doneAt,
        restoredAt,
        starts: lineCount(t, 'runs'),
        child: await childOf(env, handle.workflowId, t),
      };
    };
    const [main, control] = await Promise.all([scenario(false, 0), scenario(true, 1)]);
    expect(main.starts, 'script starts on the target').toBe(1);
    expect(main.result.status).toBe('succeeded');
    expect(main.doneAt).toBeGreaterThanOrEqual(main.restoredAt);
    expect(main.child).toMatchObject({ name: 'install', state: 'succeeded', exitCode: 0, attempt: 1 });
    expect(main.child?.tail).toContain(`tick ${seconds}\nall done`);
    expect(control.starts, 'control: without re-attach the retry after the cut runs the script again').toBe(2);
  }, 240_000);

  it('cut for longer than the lost-contact bound: an "outcome unknown" decision; Retry after the path is back re-attaches and finds the finished run', async () => {
    const seconds = 6;
    const boundMs = 12_000;
    const scenario = async (control: boolean, i: number) => {
      const env = await workerWith({ lostContactBoundMs: boundMs, ...(control ? { rerunOnRetry: true } : {}) });
      const t = sshd.targetsFor(`unknown-${control ? 'control' : 'main'}`)[i]!;
      const handle = await startRollout(env.client, env.taskQueue, appPlan(t, seconds));
      await until(() => lineCount(t, 'ticks') >= 2, 60_000, 'two ticks');
      const cutAt = Date.now();
      cutPath(t.host);
      let decision;
      try {
        const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1, 90_000);
        decision = s.pendingDecisions[0]!;
        expect(Date.now() - cutAt).toBeGreaterThanOrEqual(boundMs - 1000);
        expect(lineCount(t, 'finished')).toBe(1); // it finished on the target meanwhile; nobody could know
      } finally {
        restorePath(t.host);
      }
      const child = await childOf(env, handle.workflowId, t);
      const r = await decide(env.client, handle.workflowId, decision.id, 'retry', 'U_ALICE');
      expect(r.outcome).toBe('accepted');
      const result = await handle.result();
      const after = (await getTargets(env.client, handle.workflowId, { target: t.name })).targets[0]?.steps[0]
        ?.children[0];
      return { decision, child, result, after, starts: lineCount(t, 'runs'), finished: lineCount(t, 'finished'), t };
    };
    const [main, control] = await Promise.all([scenario(false, 2), scenario(true, 3)]);
    // What the card says: what is known, not a script failure, not "could not connect".
    expect(main.decision).toMatchObject({ kind: 'failure', target: main.t.name, childStep: 'install', exitCode: null });
    expect(main.decision.tail).toMatch(
      new RegExp(
        `outcome unknown: lost contact with ${main.t.name} at \\d\\d:\\d\\d:\\d\\d UTC while \`install\` was running`,
      ),
    );
    expect(main.child).toMatchObject({
      state: 'failed',
      outcome: 'unknown',
      runId: expect.stringMatching(/^web3-install-a1-/),
    });
    expect(main.child?.lostContactAt).toEqual(expect.any(String));
    // Retry re-attached: the original run's outcome counts, nothing ran twice.
    expect(main.result.status).toBe('succeeded');
    expect(main.starts, 'script starts on the target').toBe(1);
    expect(main.finished).toBe(1);
    expect(main.after).toMatchObject({
      name: 'install',
      state: 'succeeded',
      exitCode: 0,
      attempt: 2,
      runId: main.child?.runId,
    });
    expect(main.after?.tail).toContain(`tick ${seconds}\nall done`);
    expect(control.decision.tail).toContain('outcome unknown');
    expect(control.starts, 'control: a Retry without re-attach runs the script again').toBe(2);
  }, 240_000);

  it("housekeeping: a target's next chain removes the runs of its previous one (their outcomes are recorded)", async () => {
    const env = await workerWith({});
    const t = sshd.targetsFor('housekeeping')[0]!;
    const cfg = configFor([t], {
      app: {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: ['a', 'b', 'c'].map((n) => ({ name: n, script: `echo ${n} >> order` })),
          },
          { type: 'rolling', name: 'post', window: 1, childSteps: [{ name: 'd', script: 'echo d >> order' }] },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    expect((await handle.result()).status).toBe('succeeded');
    expect(readTargetFile(t, 'order')).toBe('a\nb\nc\nd\n');
    const steps = (await getTargets(env.client, handle.workflowId, { target: t.name })).targets[0]?.steps ?? [];
    const ids = steps.flatMap((s) => s.children.map((c) => c.runId));
    expect(ids).toHaveLength(4);
    expect(ids.every(Boolean)).toBe(true);
    // The second step's chain removed the first's three runs; only its own is left (removed later by age, see
    // README "Run files on targets"). A chain never removes its own runs: a retry of it re-attaches to them.
    expect(readdirSync(path.join(t.workdir, '.rollout', 'runs'))).toEqual([ids[3]]);
  }, 60_000);

  it('cut before anything started: "could not connect, nothing ran", and no run on the target', async () => {
    const env = await workerWith({ lostContactBoundMs: 60_000, connectAttempts: 2 });
    const t = sshd.targetsFor('never')[0]!;
    cutPath(t.host);
    try {
      const handle = await startRollout(env.client, env.taskQueue, appPlan(t, 1));
      const s = await waitForSummary(env.client, handle.workflowId, (x) => x.status !== 'running', 60_000);
      expect(s.status).toBe('failed');
      expect(s.failure?.error).toMatch(new RegExp(`could not connect to ${t.name}, nothing ran: connect-timeout`));
      expect((await childOf(env, handle.workflowId, t))?.outcome).toBe('not-started');
      expect(readTargetFile(t, 'runs')).toBeUndefined();
    } finally {
      restorePath(t.host);
    }
  }, 120_000);
});
