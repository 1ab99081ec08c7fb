// Ramped windows, the MaxParallelism override, pause / resume / window changes and deploy freezes, against the
// shared Temporal dev server and real sshd targets (127.0.6.1–8). Every claim about concurrency is read from the
// timestamps the scripts wrote on the targets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL } from '../../domain/failures';
import { decide, getSummary, getTargets, startRollout } from '../../src/temporal/client';
import { pauseRollout, resumeRollout, setRolloutWindow } from '../../src/temporal/steering';
import type { TargetPlan } from '../../domain/plan';
import type { RolloutSummary } from '../../workflows/messages';
import { configFor, planFor, startEngineFixture, type EngineFixture } from '../support/rollouts';
import { inFlightAt, maxInFlight, spansOf } from '../support/spans';
import { waitForSummary, type TemporalTestEnv } from '../support/temporal';
import type { SshdFixture } from '../support/sshd';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 8, baseAddress: '127.0.6.1', queuePrefix: 'steer' });
  ({ sshd, env } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

/** One child step that writes its start and end on the target, working `#{Work}` seconds in between. */
const timed = (work: string) => ({
  name: 'work',
  script: `echo "start #{Machine.Name} $(date +%s.%N)" >> timeline; sleep ${work}; echo "end #{Machine.Name} $(date +%s.%N)" >> timeline`,
});

function deployable(targets: TargetPlan[], rolling: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return configFor(targets, {
    app: {
      targets: ['tag:web'],
      approvers: ['U_ALICE', 'U_BOB'],
      ...extra,
      process: [{ type: 'rolling', name: 'deploy', childSteps: [timed('#{Work}')], ...rolling }],
    },
  });
}

const withWork = (targets: TargetPlan[], seconds: string) =>
  targets.map((t) => ({ ...t, variables: { Work: seconds } }));
const started = (s: RolloutSummary) => {
  const c = s.steps[0]!.counts;
  return c.running + c.succeeded + c.failed + c.waiting;
};
const wallSec = () => Date.now() / 1000;

/** When the workflow started each target's chain (workflow time, epoch seconds), by target name. */
async function chainStarts(rolloutId: string): Promise<Map<string, number>> {
  const page = await getTargets(env.client, rolloutId, { limit: 50 });
  return new Map(page.targets.map((t) => [t.name, Date.parse(t.steps[0]?.startedAt ?? '') / 1000]));
}

describe('ramped windows', () => {
  it('a ramp [1, 2, "50%"] over 8 targets runs 1, then at most 2, then at most 4 in flight, each stage after the last', async () => {
    const targets = withWork(sshd.targetsFor('ramp'), '1');
    const cfg = deployable(targets, { window: [1, 2, '50%'] });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const during = await waitForSummary(env.client, handle.workflowId, (s) => s.steps[0]?.ramp?.stage === 3);
    expect(during.steps[0]?.ramp).toMatchObject({ windows: '1, 2, 50%', stages: 4 });
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.steps[0]?.counts.succeeded).toBe(8);

    const spans = spansOf(targets);
    const stages = [spans.slice(0, 1), spans.slice(1, 3), spans.slice(3, 7), spans.slice(7)];
    expect(maxInFlight(spans, stages[0])).toBe(1);
    expect(maxInFlight(spans, stages[1])).toBeLessThanOrEqual(2);
    expect(maxInFlight(spans, stages[2])).toBeLessThanOrEqual(4);
    // The window really grew: stage 3's four targets were in flight together (each works 1 s).
    expect(maxInFlight(spans, stages[2])).toBeGreaterThan(2);
    // Each stage starts only after the whole stage before it has finished.
    for (let i = 1; i < stages.length; i++) {
      const prevEnd = Math.max(...stages[i - 1]!.map((s) => s.end));
      for (const s of stages[i]!) expect(s.start, `${s.target} in stage ${i + 1}`).toBeGreaterThanOrEqual(prevEnd);
    }
  });

  it('a bake time holds the next stage back; a manual Proceed between stages is a decision', async () => {
    const targets = withWork(sshd.targetsFor('ramp-between').slice(0, 3), '0.2');
    const cfg = deployable(targets, { ramp: { window: [1, 2], between: { bakeSec: 2, manual: true } } });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const baking = await waitForSummary(
      env.client,
      handle.workflowId,
      (s) => s.steps[0]?.ramp?.waiting?.kind === 'bake',
    );
    expect(started(baking)).toBe(1);
    const asked = await waitForSummary(env.client, handle.workflowId, (s) => s.pendingDecisions.length === 1);
    const d = asked.pendingDecisions[0]!;
    expect(d).toMatchObject({ kind: 'manual', step: 'deploy', choices: ['proceed', 'abort'] });
    expect(d.instructions).toMatch(/Stage 1 of 2 of deploy finished. Proceed to start stage 2 \(2 targets\)/);
    expect(started(asked)).toBe(1);
    expect((await decide(env.client, handle.workflowId, d.id, 'proceed', 'U_BOB')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const spans = spansOf(targets);
    // The bake: stage 2 started at least 2 s after the canary ended.
    expect(spans[1]!.start - spans[0]!.end).toBeGreaterThanOrEqual(2);
  });
});

describe('the MaxParallelism override', () => {
  it('MaxParallelism=3 replaces a window of 1, and status says so', async () => {
    const targets = withWork(sshd.targetsFor('max-parallelism').slice(0, 6), '1');
    const cfg = deployable(targets, { window: 1 });
    const handle = await startRollout(
      env.client,
      env.taskQueue,
      planFor(cfg, 'app', 'v2', 'U_ALICE', { MaxParallelism: '3' }),
    );
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const s = result.summary;
    expect(s.steps[0]).toMatchObject({ window: 3, configuredWindow: '1' });
    expect(s.windowOverride).toMatchObject({ window: 3, by: 'MaxParallelism' });
    expect(s.steering).toContainEqual(
      expect.objectContaining({ kind: 'maxParallelism', window: 3, step: 'deploy', configured: '1' }),
    );
    const spans = spansOf(targets);
    expect(maxInFlight(spans)).toBe(3);
  });
});

describe('steering a running rollout', () => {
  it('pause stops new starts (in-flight targets finish), resume goes on, a window change widens it', async () => {
    const targets = withWork(sshd.targetsFor('pause-resume'), '0.8');
    const cfg = deployable(targets, { window: 1 });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const id = handle.workflowId;
    await waitForSummary(env.client, id, (s) => s.steps[0]!.counts.succeeded >= 2);

    const pause = await pauseRollout(env.client, id, 'U_BOB', 'checking the dashboards');
    expect(pause.outcome).toBe('accepted');
    // The target in flight finishes its chain; then nothing is in flight.
    const drained = await waitForSummary(
      env.client,
      id,
      (s) => s.paused !== undefined && s.steps[0]!.inFlightCount === 0,
    );
    expect(drained.paused).toMatchObject({ by: 'U_BOB', reason: 'checking the dashboards' });
    // Held for 2.5 s, asked every 100 ms: nothing starts.
    const holdUntil = Date.now() + 2500;
    while (Date.now() < holdUntil) {
      const s = await getSummary(env.client, id);
      expect(started(s)).toBe(started(drained));
      await new Promise((r) => setTimeout(r, 100));
    }
    const resumedAt = wallSec();
    expect((await resumeRollout(env.client, id, 'U_ALICE')).outcome).toBe('accepted');
    const after = await waitForSummary(env.client, id, (s) => started(s) >= started(drained) + 1);
    expect(after.paused).toBeUndefined();
    const widenedAt = wallSec();
    const w = await setRolloutWindow(env.client, id, 3, 'U_BOB');
    expect(w.outcome).toBe('accepted');
    const widened = await waitForSummary(env.client, id, (s) => s.steps[0]!.window === 3);
    expect(widened.steps[0]).toMatchObject({ configuredWindow: '1' });

    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.steering?.map((r) => [r.kind, r.by])).toEqual([
      ['paused', 'U_BOB'],
      ['resumed', 'U_ALICE'],
      ['window', 'U_BOB'],
    ]);
    for (const r of result.summary.steering ?? []) expect(Date.parse(r.at)).toBeGreaterThan(0);

    const [paused, resumed] = result.summary.steering ?? [];
    const pauseAt = Date.parse(paused!.at) / 1000;
    const resumeAt = Date.parse(resumed!.at) / 1000;
    const chains = await chainStarts(id);
    const spans = spansOf(targets);
    // The workflow started no chain between the pause and the resume...
    expect([...chains.values()].filter((t) => t >= pauseAt && t < resumeAt)).toEqual([]);
    // ...and on the targets: those started before the pause ran first; every later one began after the resume.
    const n = started(drained);
    expect(spans.slice(n).every((sp) => sp.start >= resumedAt)).toBe(true);
    // The hold shows on the targets: 2.5 s at least between the last chain before the pause and the first after.
    expect(spans[n]!.start - spans[n - 1]!.end).toBeGreaterThanOrEqual(2.5);
    // Control: the same check on the workflow's starts finds the chains started after the resume.
    expect([...chains.values()].filter((t) => t >= resumeAt).length).toBe(targets.length - n);
    // Window 1 until the change, up to 3 after it.
    const before = spans.filter((sp) => sp.start < widenedAt);
    const later = spans.filter((sp) => sp.start > widenedAt + 0.5);
    expect(maxInFlight(spans, before)).toBe(1);
    expect(later.length).toBeGreaterThan(0);
    expect(Math.max(...later.map((sp) => inFlightAt(spans, sp)))).toBeGreaterThan(1);
    expect(maxInFlight(spans, later)).toBeLessThanOrEqual(3);
  });

  it('the workflow itself refuses a stranger, a duplicate, a resume of a running rollout and a bad window', async () => {
    const targets = withWork(sshd.targetsFor('steer-refusals').slice(0, 2), '30');
    const cfg = deployable(targets, { window: 1 });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const id = handle.workflowId;
    await waitForSummary(env.client, id, (s) => s.steps[0]!.inFlightCount === 1);
    const refused = { outcome: 'rejected', type: REFUSAL.steerRefused };
    // A direct client call, as anyone who can reach the namespace could make: the workflow checks its approvers.
    expect(await pauseRollout(env.client, id, 'U_MALLORY')).toMatchObject({
      ...refused,
      reason: expect.stringMatching(/U_MALLORY is not allowed to pause/),
    });
    expect(await setRolloutWindow(env.client, id, 5, 'U_MALLORY')).toMatchObject(refused);
    expect(await resumeRollout(env.client, id, 'U_ALICE')).toMatchObject({
      ...refused,
      reason: expect.stringMatching(/is not paused/),
    });
    expect(await setRolloutWindow(env.client, id, 0, 'U_ALICE')).toMatchObject(refused);
    // Control: an approver may, once; the second pause is a duplicate.
    expect((await pauseRollout(env.client, id, 'U_ALICE')).outcome).toBe('accepted');
    expect(await pauseRollout(env.client, id, 'U_BOB')).toMatchObject({
      ...refused,
      reason: expect.stringMatching(/already paused \(by U_ALICE/),
    });
    expect(await resumeRollout(env.client, id, 'U_MALLORY')).toMatchObject(refused);
    const s = await getSummary(env.client, id);
    expect(s.steering?.map((r) => r.kind)).toEqual(['paused']);
    await handle.terminate('test done');
  });
});

describe('deploy freezes during a rollout', () => {
  it('a freeze that begins mid-rollout holds it (in-flight targets finish) and its end resumes it', async () => {
    const targets = withWork(sshd.targetsFor('freeze').slice(0, 6), '1');
    const from = new Date(Date.now() + 3000);
    const until = new Date(from.getTime() + 4000);
    const cfg = deployable(
      targets,
      { window: 1 },
      { freezes: [{ name: 'short', from: from.toISOString(), until: until.toISOString(), reason: 'a short one' }] },
    );
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const frozen = await waitForSummary(env.client, handle.workflowId, (s) => s.frozen !== undefined);
    expect(frozen.frozen).toEqual({ freeze: 'short', reason: 'a short one', until: until.toISOString() });
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.frozen).toBeUndefined();
    expect(result.summary.steering?.map((r) => [r.kind, r.by])).toEqual([
      ['frozen', 'freeze'],
      ['thawed', 'freeze'],
    ]);
    const f = from.getTime() / 1000;
    const u = until.getTime() / 1000;
    // The workflow started no chain while the freeze was in force; it started some before and some after it.
    const chains = [...(await chainStarts(handle.workflowId)).values()];
    expect(chains.filter((t) => t >= f && t < u)).toEqual([]);
    expect(chains.some((t) => t < f)).toBe(true);
    expect(chains.some((t) => t >= u)).toBe(true);
    // On the targets: the one in flight when the freeze began finished its chain; the next began after the end.
    const spans = spansOf(targets);
    const firstAfter = spans.findIndex((sp) => sp.start >= u);
    expect(firstAfter).toBeGreaterThan(0);
    expect(spans[firstAfter - 1]!.end).toBeGreaterThan(f - 1);
    expect(spans.slice(firstAfter).every((sp) => sp.start >= u)).toBe(true);
  });

  it('a rollout whose request overrode the freeze in force runs through it, and the override is recorded', async () => {
    const targets = withWork(sshd.targetsFor('freeze-override').slice(0, 2), '0.1');
    const from = new Date(Date.now() - 60_000);
    const until = new Date(Date.now() + 3_600_000);
    const cfg = deployable(
      targets,
      { window: 1 },
      { freezes: [{ name: 'hour', from: from.toISOString(), until: until.toISOString(), reason: 'an hour' }] },
    );
    const plan = planFor(cfg, 'app');
    plan.freezeOverride = { by: 'U_CTO', reason: 'hotfix', at: new Date().toISOString(), freezes: ['hour'] };
    const result = await (await startRollout(env.client, env.taskQueue, plan)).result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.freezeOverride).toMatchObject({ by: 'U_CTO', reason: 'hotfix', freezes: ['hour'] });
    expect(result.summary.steering?.map((r) => r.kind)).toEqual(['freezeOverridden']);
  });
});
