// Hand-built query results for the Block Kit message tests.
import type { Decision, RolloutSummary, StepSummary, TargetState } from '../../../workflows/messages';

export const NOW = new Date('2025-03-04T14:20:00Z');

export function counts(over: Partial<Record<TargetState, number>> = {}): Record<TargetState, number> {
  return { pending: 0, running: 0, waiting: 0, succeeded: 0, failed: 0, skipped: 0, excluded: 0, ...over };
}

export function step(over: Partial<StepSummary> & { name: string }): StepSummary {
  return { type: 'script', state: 'pending', counts: counts(), inFlight: [], inFlightCount: 0, ...over };
}

export function failureDecision(over: Partial<Decision> = {}): Decision {
  return {
    id: 'd1',
    kind: 'failure',
    step: 'deploy',
    target: 'web3',
    childStep: 'restart',
    exitCode: 1,
    tail: 'Stopping nginx...\nStarting nginx...\nnginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address in use)\n',
    createdAt: '2025-03-04T14:01:12Z',
    choices: ['fail', 'retry', 'ignore', 'exclude'],
    ...over,
  };
}

export function manualDecision(over: Partial<Decision> = {}): Decision {
  return {
    id: 'd2',
    kind: 'manual',
    step: 'verify',
    instructions: 'Check *Grafana* for 5xx on web1–web5, then press _Proceed_.\nRollback: `deploy.sh v1`.',
    createdAt: '2025-03-04T14:10:00Z',
    choices: ['proceed', 'abort'],
    ...over,
  };
}

/** web-farm v2 half way through a 20-target rolling deploy, one failure waiting for an answer. */
export function runningSummary(over: Partial<RolloutSummary> = {}): RolloutSummary {
  return {
    rolloutId: 'rollout-web-farm-20250304-140000',
    deployable: 'web-farm',
    release: 'v2',
    requestedBy: 'U123ABC',
    status: 'running',
    startedAt: '2025-03-04T14:00:00Z',
    totalTargets: 20,
    currentStep: 'deploy',
    steps: [
      step({ name: 'preflight', state: 'done', counts: counts({ succeeded: 20 }) }),
      step({
        name: 'deploy',
        type: 'rolling',
        state: 'running',
        window: 3,
        counts: counts({ succeeded: 11, failed: 0, running: 2, waiting: 1, pending: 5, excluded: 1 }),
        inFlight: ['web13', 'web14', 'web3'],
        inFlightCount: 3,
      }),
      step({ name: 'verify', type: 'manual', state: 'pending' }),
      step({ name: 'notify', state: 'pending', counts: counts({ pending: 1 }) }),
    ],
    pendingDecisions: [failureDecision()],
    recentDecisions: [],
    ...over,
  };
}

export function succeededSummary(): RolloutSummary {
  return runningSummary({
    status: 'succeeded',
    endedAt: '2025-03-04T14:42:07Z',
    currentStep: undefined,
    requestedBy: 'cli:alice',
    steps: [
      step({ name: 'preflight', state: 'done', counts: counts({ succeeded: 20 }) }),
      step({
        name: 'deploy',
        type: 'rolling',
        state: 'done',
        window: 3,
        counts: counts({ succeeded: 19, excluded: 1 }),
      }),
      step({ name: 'verify', type: 'manual', state: 'done' }),
      step({ name: 'notify', state: 'skipped', counts: counts({ skipped: 1 }) }),
    ],
    pendingDecisions: [],
    recentDecisions: [
      failureDecision({ answer: { choice: 'exclude', by: 'U9', at: '2025-03-04T14:03:00Z' } }),
      manualDecision({ answer: { choice: 'proceed', by: 'U123ABC', at: '2025-03-04T14:30:00Z' } }),
    ],
  });
}

export function failedSummary(): RolloutSummary {
  return runningSummary({
    status: 'failed',
    endedAt: '2025-03-04T14:05:30Z',
    currentStep: undefined,
    stopReason: 'restart failed on web3',
    steps: [
      step({ name: 'preflight', state: 'done', counts: counts({ succeeded: 20 }) }),
      step({
        name: 'deploy',
        type: 'rolling',
        state: 'done',
        window: 3,
        counts: counts({ succeeded: 2, failed: 1, skipped: 17 }),
      }),
      step({ name: 'verify', type: 'manual', state: 'skipped' }),
      step({ name: 'notify', state: 'skipped', counts: counts({ skipped: 1 }) }),
    ],
    pendingDecisions: [],
    failure: { step: 'deploy', target: 'web3', childStep: 'restart', exitCode: 1 },
  });
}

export function cancelledSummary(): RolloutSummary {
  return runningSummary({
    status: 'cancelled',
    endedAt: '2025-03-04T15:10:00Z',
    currentStep: undefined,
    stopReason: 'cancelled by U777: wrong <release> & wrong day',
    pendingDecisions: [],
  });
}

const HOSTILE = '<script>alert(1)</script> *bold* & <@U999> <!channel>';

/** The worst case: 1,000 targets, 20 steps of long hostile names, every list full. */
export function hugeSummary(): RolloutSummary {
  const names = Array.from(
    { length: 1000 },
    (_, i) => `${HOSTILE} web-${String(i).padStart(4, '0')}-${'x'.repeat(200)}`,
  );
  const steps = Array.from({ length: 20 }, (_, i) =>
    step({
      name: `${HOSTILE} step ${i} ${'y'.repeat(300)}`,
      type: i % 3 === 0 ? 'rolling' : i % 3 === 1 ? 'script' : 'manual',
      state: i < 5 ? 'done' : i < 12 ? 'running' : 'pending',
      window: 250,
      counts: counts({
        succeeded: 400,
        failed: 100,
        running: 200,
        waiting: 100,
        excluded: 100,
        skipped: 50,
        pending: 50,
      }),
      inFlight: names.slice(0, 20),
      inFlightCount: 300,
    }),
  );
  const decisions = Array.from({ length: 20 }, (_, i) =>
    failureDecision({
      id: `d${i}-${'z'.repeat(500)}`,
      step: steps[i]?.name ?? 's',
      target: names[i],
      childStep: HOSTILE.repeat(20),
      tail: HOSTILE.repeat(100),
    }),
  );
  return {
    rolloutId: `rollout-${HOSTILE}-${'r'.repeat(900)}`,
    deployable: `${HOSTILE} ${'d'.repeat(300)}`,
    release: `v2-${'9'.repeat(125)}`,
    requestedBy: `cli:${HOSTILE}${'a'.repeat(300)}`,
    status: 'running',
    stopReason: `${HOSTILE} `.repeat(200),
    startedAt: '2025-03-01T00:00:00Z',
    totalTargets: 1000,
    currentStep: steps[7]?.name,
    steps,
    pendingDecisions: decisions,
    recentDecisions: decisions,
    failure: {
      step: HOSTILE.repeat(30),
      target: HOSTILE.repeat(30),
      childStep: HOSTILE.repeat(30),
      exitCode: 137,
      error: HOSTILE.repeat(300),
    },
  };
}

export { HOSTILE };
