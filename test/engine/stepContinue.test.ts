// Continue-as-new inside a step (issue 13, workflows/rollout/stepContinue.ts) against the shared Temporal dev
// server, local-transport targets: a small threshold makes one step continue as new several times; every target
// runs once (each appends to a marker file on the target), decisions asked before and after a continue-as-new are
// answered, status and the result are whole. And the carried state of a finished 10,000-target rollout fits in one
// payload (compact.ts), with nothing lost that the next run reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { mkdirSync, writeFileSync } from 'node:fs';
import { decide, getTargets, startRollout } from '../../src/temporal/client';
import { pauseRollout, resumeRollout, setRolloutWindow } from '../../src/temporal/steering';
import type { TargetPlan } from '../../domain/plan';
import type { RolloutInput } from '../../workflows/messages';
import { RolloutState } from '../../workflows/rollout/state';
import { nextInput, type StepContinuer } from '../../workflows/rollout/stepContinue';
import { unpackTargets } from '../../workflows/rollout/compact';
import { configFor, localTargets, planFor, readTargetFile, realTransports } from '../support/rollouts';
import { pretendTargets, scaleShapeState } from '../support/scaleShape';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  env = await temporalTestEnv('step-continue');
  transports = realTransports();
  await env.startWorker(transports);
});

afterAll(async () => {
  await env?.close();
  await transports?.close();
});

/** A rolling step of 30 targets (window 5) whose child steps mark each run on the target, then a script step. */
function farm(targets: TargetPlan[], extra: Record<string, unknown> = {}, window = 5) {
  return configFor(targets, {
    app: {
      targets: ['tag:web'],
      approvers: ['U_ALICE', 'U_BOB'],
      ...extra,
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window,
          childSteps: [
            {
              name: 'install',
              script:
                'echo run >> marker; if [ -f fail-once ] && [ ! -f failed ]; then touch failed; echo broken >&2; exit 4; fi',
            },
            { name: 'probe', script: 'set_output Ok True' },
          ],
        },
        // Reads the first step's output: outputs needed later survive every continue-as-new.
        { name: 'after', script: 'echo after >> after', if: 'Output.probe.Ok == "True"' },
      ],
    },
  });
}

interface Run {
  runId: string;
  events: number;
  input: RolloutInput;
}

/** Every run of a rollout, first first, with its history length and its input. */
async function runsOf(client: Client, workflowId: string, firstRunId: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const data = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    runs.push({
      runId,
      events: history.events?.length ?? 0,
      input: JSON.parse(Buffer.from(data ?? new Uint8Array()).toString('utf8')) as RolloutInput,
    });
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** These targets' install fails the first time it runs. */
function failOnce(targets: TargetPlan[], names: string[]): void {
  for (const name of names) {
    const t = targets.find((x) => x.name === name)!;
    mkdirSync(t.workdir, { recursive: true });
    writeFileSync(`${t.workdir}/fail-once`, '');
  }
}

const marks = (t: TargetPlan, file = 'marker') => (readTargetFile(t, file) ?? '').split('\n').filter(Boolean).length;

// About 4 events per target in the rolling step (a runChain activity and its share of workflow tasks; 8 while the
// chain was a child workflow): 30 targets make ~130, so 60 continues as new 2-3 times in it.
const THRESHOLD = 60;

describe('continue-as-new inside a step', () => {
  it('a 30-target step continues as new mid-step; every target runs once; summary, status and outputs are whole', async () => {
    const targets = localTargets(30, { dirPrefix: 'step-continue-' });
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm(targets), 'app'), undefined, {
      continueAsNewAfterEvents: THRESHOLD,
    });
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(targets.map((t) => marks(t))).toEqual(targets.map(() => 1));
    expect(targets.map((t) => marks(t, 'after'))).toEqual(targets.map(() => 1));

    const runs = await runsOf(env.client, handle.workflowId, handle.firstExecutionRunId);
    console.log(`runs: ${runs.length}, events per run: ${runs.map((r) => r.events).join(', ')}`);
    const midStep = runs.filter((r) => r.input.carried?.resume?.step === 0);
    expect(midStep.length).toBeGreaterThanOrEqual(2);
    // Bounded: no run goes far past the threshold (what the window in flight adds, and the run's own events).
    for (const r of runs) expect(r.events, r.runId).toBeLessThan(THRESHOLD + 5 * 8 + 60);
    // Packed: the continued runs carry the targets in carried.packed, not in the plan.
    for (const r of runs.slice(1)) {
      expect(r.input.plan.targets).toEqual([]);
      expect(unpackTargets(r.input.carried!.packed!.targets).map((t) => t.name)).toEqual(targets.map((t) => t.name));
    }

    const s = result.summary;
    expect(s.steps.map((x) => [x.name, x.state, x.counts.succeeded, x.inFlightCount])).toEqual([
      ['deploy', 'done', 30, 0],
      ['after', 'done', 30, 0],
    ]);
    expect(s.targetOutcomes).toEqual({ deployed: 30, excluded: 0, notRun: 0 });
    expect(result.targets?.map((t) => t.name)).toEqual(targets.map((t) => t.name));
    expect(result.targets?.every((t) => t.received)).toBe(true);
    // The first target ran in the first run: its record crossed every continue-as-new.
    const first = (await getTargets(env.client, handle.workflowId, { target: 'app1' })).targets[0]!;
    expect(first.state).toBe('succeeded');
    expect(first.steps[0]).toMatchObject({ step: 'deploy', state: 'succeeded' });
    expect(first.steps[0]?.children.map((c) => [c.name, c.state, c.exitCode, c.attempt])).toEqual([
      ['install', 'succeeded', 0, 1],
      ['probe', 'succeeded', 0, 1],
    ]);
    expect(Date.parse(first.steps[0]!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(first.steps[0]!.startedAt!));
  });

  it('decisions asked before and after a continue-as-new are answered; the decision record carries over', async () => {
    const targets = localTargets(30, { dirPrefix: 'step-continue-d-' });
    // app3 fails in the first run, app28 in a later one (each once: `fail-once`).
    failOnce(targets, ['app3', 'app28']);
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm(targets), 'app'), undefined, {
      continueAsNewAfterEvents: THRESHOLD,
    });
    const firstAsk = await waitForSummary(env.client, handle.workflowId, (s) => s.pendingDecisions.length === 1);
    expect(firstAsk.pendingDecisions[0]).toMatchObject({ id: 'd1', target: 'app3', childStep: 'install' });
    expect((await handle.describe()).runId).toBe(handle.firstExecutionRunId);
    expect((await decide(env.client, handle.workflowId, 'd1', 'ignore', 'U_ALICE')).outcome).toBe('accepted');

    const secondAsk = await waitForSummary(env.client, handle.workflowId, (s) =>
      s.pendingDecisions.some((d) => d.target === 'app28'),
    );
    // Asked in a later run; the first decision's answer is still on record there.
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    expect(secondAsk.pendingDecisions[0]).toMatchObject({ id: 'd2', target: 'app28' });
    expect(secondAsk.recentDecisions.map((d) => [d.id, d.answer?.choice])).toEqual([['d1', 'ignore']]);
    expect((await decide(env.client, handle.workflowId, 'd2', 'retry', 'U_BOB')).outcome).toBe('accepted');

    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.recentDecisions.map((d) => [d.id, d.answer?.choice, d.answer?.by])).toEqual([
      ['d1', 'ignore', 'U_ALICE'],
      ['d2', 'retry', 'U_BOB'],
    ]);
    // app28 ran its install twice (Retry), every other target once.
    expect(targets.map((t) => [t.name, marks(t)])).toEqual(targets.map((t) => [t.name, t.name === 'app28' ? 2 : 1]));
    const app3 = (await getTargets(env.client, handle.workflowId, { target: 'app3' })).targets[0]!;
    expect(app3.steps[0]?.children[0]).toMatchObject({ name: 'install', state: 'ignored', exitCode: 4 });
    const app28 = (await getTargets(env.client, handle.workflowId, { target: 'app28' })).targets[0]!;
    expect(app28.steps[0]?.children[0]).toMatchObject({ name: 'install', state: 'succeeded', attempt: 2 });
  });

  it('excluded targets and the failure budget carry over: a failure in a later run exceeds the budget', async () => {
    const targets = localTargets(30, { dirPrefix: 'step-continue-b-' });
    failOnce(targets, ['app3', 'app20']);
    const handle = await startRollout(
      env.client,
      env.taskQueue,
      planFor(farm(targets, { failureBudget: 1 }), 'app'),
      undefined,
      { continueAsNewAfterEvents: THRESHOLD },
    );
    const ask = await waitForSummary(env.client, handle.workflowId, (s) => s.pendingDecisions.length === 1);
    expect(ask.pendingDecisions[0]).toMatchObject({ id: 'd1', target: 'app3' });
    expect((await decide(env.client, handle.workflowId, 'd1', 'exclude', 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    // app20's failure is the second: past the budget of 1 nobody is asked (the count came from an earlier run).
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toBe('failure budget exceeded (2 targets failed, budget 1)');
    expect(result.summary.recentDecisions.map((d) => [d.id, d.answer?.choice])).toEqual([['d1', 'exclude']]);
    const runs = await runsOf(env.client, handle.workflowId, handle.firstExecutionRunId);
    // app3's exclusion and failure crossed a continue-as-new in the middle of the step. (The last run may have
    // begun at the step boundary instead: the drain after the stop can pass the threshold on its own.)
    const carriedApp3 = runs.filter(
      (r) =>
        r.input.carried?.resume?.step === 0 &&
        r.input.carried.excluded.includes('app3') &&
        r.input.carried.failedTargets.includes('app3'),
    );
    expect(carriedApp3.length).toBeGreaterThanOrEqual(1);
    expect(runs.at(-1)?.input.carried?.failedTargets).toContain('app3');
    expect(result.summary.steps.map((x) => [x.name, x.state])).toEqual([
      ['deploy', 'done'],
      ['after', 'skipped'],
    ]);
    const app3 = (await getTargets(env.client, handle.workflowId, { target: 'app3' })).targets[0]!;
    expect(app3.state).toBe('excluded');
    // Nothing started after the stop, and nothing ran twice.
    expect(Math.max(...targets.map((t) => marks(t)))).toBe(1);
    expect(targets.filter((t) => marks(t) === 1).length).toBeLessThan(30);
  });

  it('a window change and a pause made in a later run hold across its continue-as-new', async () => {
    const targets = localTargets(30, { dirPrefix: 'step-continue-s-' });
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm(targets, {}, 2), 'app'), undefined, {
      continueAsNewAfterEvents: THRESHOLD,
    });
    const deadline = Date.now() + 120_000;
    while ((await handle.describe()).runId === handle.firstExecutionRunId) {
      if (Date.now() > deadline) throw new Error('never continued as new');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await setRolloutWindow(env.client, handle.workflowId, 4, 'U_ALICE')).outcome).toBe('accepted');
    expect((await pauseRollout(env.client, handle.workflowId, 'U_BOB', 'look')).outcome).toBe('accepted');
    const paused = await waitForSummary(
      env.client,
      handle.workflowId,
      (s) => s.paused !== undefined && s.steps[0]?.inFlightCount === 0,
    );
    expect(paused.steps[0]?.window).toBe(4);
    expect(paused.steps[0]?.counts.pending).toBeGreaterThan(0);
    expect((await resumeRollout(env.client, handle.workflowId, 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(targets.map((t) => marks(t))).toEqual(targets.map(() => 1));
    expect(result.summary.windowOverride).toMatchObject({ window: 4, by: 'U_ALICE' });
    expect(result.summary.steering?.map((r) => r.kind)).toEqual(['window', 'paused', 'resumed']);
    expect(result.summary.steps[0]).toMatchObject({ window: 4, configuredWindow: '2' });
    // The override travelled in a later continue-as-new's input.
    const runs = await runsOf(env.client, handle.workflowId, handle.firstExecutionRunId);
    expect(runs.some((r) => r.input.carried?.steering?.windowOverride?.window === 4)).toBe(true);
  });

  it('control: below the threshold the same rollout is one run', async () => {
    const targets = localTargets(30, { dirPrefix: 'step-continue-c-' });
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm(targets), 'app'));
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const runs = await runsOf(env.client, handle.workflowId, handle.firstExecutionRunId);
    expect(runs).toHaveLength(1);
    expect(targets.map((t) => marks(t))).toEqual(targets.map(() => 1));
  });
});

describe('the carried state at 10,000 targets', () => {
  it("a finished 10,000-target rollout of bench:scale's shape packs under 2 MB with margin, and unpacks whole", () => {
    const n = 10_000;
    const state = scaleShapeState(pretendTargets(n, '/tmp/bench-scale-targets-AbC123'));
    const plan = state.plan;
    const input: RolloutInput = { plan };
    const t0 = Date.parse(state.startedAt);
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    plan.steps.forEach((step, si) => {
      const names = step.type === 'rolling' || step.type === 'script' ? step.childSteps.map((c) => c.name) : [];
      for (let i = 0; i < n; i++) {
        const start = si * 3_600_000 + i * 337;
        state.noteStarted(`t${i + 1}`);
        state.records[si]!.set(`t${i + 1}`, {
          step: step.name,
          state: 'succeeded',
          startedAt: at(start),
          endedAt: at(start + 1234),
          children: names.map((name, k) => ({
            name,
            state: 'succeeded' as const,
            exitCode: 0,
            tail: 'x'.repeat(200),
            startedAt: at(start + 10 + k * 400),
            endedAt: at(start + 300 + k * 400),
            attempt: 1,
            runId: `rollout-farm-v2/${si}-${step.name}/t${i + 1}/1/${k}/1`,
          })),
        });
      }
      state.stepStates[si] = 'done';
    });
    for (let i = 0; i < n; i++) state.outputsByTarget.set(`t${i + 1}`, { b: { Ok: 'True' } });
    // The failed one keeps what an operator needs.
    const failed = state.records[1]!.get('t77')!;
    failed.state = 'failed';
    failed.children[1] = { ...failed.children[1]!, state: 'failed', exitCode: null, error: 'timed out', attempt: 2 };
    failed.children.length = 2;

    const unpacked = JSON.stringify({ plan, carried: state.toCarried(2) });
    state.stepContinue = { after: 10_000 } as StepContinuer;
    const next = nextInput(state, input, 10_000, 1, { step: 1, runStatus: 'success', targetCount: n });
    const bytes = Buffer.byteLength(JSON.stringify(next));
    console.log(`carried input at ${n} targets: ${bytes} bytes packed, ${Buffer.byteLength(unpacked)} unpacked`);
    // Temporal's payload limit is 2 MB (2,097,152 bytes); keep at least 40% of it free.
    expect(bytes).toBeLessThan(1_250_000);
    // Control: the unpacked state the earlier code carried would not fit.
    expect(Buffer.byteLength(unpacked)).toBeGreaterThan(2_097_152);

    // The next run reads back the same targets, records (less tails and run ids) and start order.
    const carried = JSON.parse(JSON.stringify(next)) as RolloutInput;
    const restoredPlan = { ...carried.plan, targets: unpackTargets(carried.carried!.packed!.targets) };
    expect(restoredPlan.targets).toEqual(plan.targets);
    const again = new RolloutState({ ...carried, plan: restoredPlan }, 'rollout-farm-v2', { notify: () => undefined });
    const strip = (x: unknown) =>
      JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'tail' || k === 'runId' ? undefined : v))) as unknown;
    for (const name of ['t1', 't77', 't5000', 't10000']) {
      const t = plan.targets.find((x) => x.name === name)!;
      expect(strip(again.targetDetail(t, 0).steps), name).toEqual(strip(state.targetDetail(t, 0).steps));
    }
    expect(again.startedTargetOutcomes()).toEqual(state.startedTargetOutcomes());
    expect(again.summary().steps.map((x) => x.counts)).toEqual(state.summary().steps.map((x) => x.counts));
    // Mid-step 1 (the last): no later step reads outputs, so only the first target's are kept (a manual step's
    // `if:` reads its scope); carried between steps before 1, every target's are.
    expect(again.outputsByTarget.size).toBe(1);
    const between = nextInput(state, input, 10_000, 1);
    expect(between.carried?.outputsByTarget).toHaveLength(n);
  });
});
