// What a rollout tells operators besides its queries: metrics and log lines, emitted from workflow code.
// Metrics go through Temporal's workflow metric meter and leave through the worker's Runtime (the same Prometheus
// endpoint as the SDK's own); log lines through the workflow logger to the process's logger, with the rollout id
// (the workflow id). The SDK drops both while a workflow replays, so a rollout rebuilt on another worker counts and
// says nothing twice; neither issues a command, so recorded histories replay unchanged. Every metric carries the
// tags the SDK adds to workflow metrics (namespace, taskQueue, workflowType: camelCase, unlike its own metrics'
// task_queue) and the deployable (a config key: bounded label values); our own labels follow that camelCase.
import { log, metricMeter } from '@temporalio/workflow';
import type { RolloutPlan } from '../../domain/plan';
import type { Decision, DecisionAnswer, RolloutSummary, TargetState } from '../messages';

export const ROLLOUTS_STARTED_METRIC = 'rollout_rollouts_started_total';
export const ROLLOUTS_ENDED_METRIC = 'rollout_rollouts_ended_total';
export const TARGETS_METRIC = 'rollout_targets_total';
export const DECISIONS_OPENED_METRIC = 'rollout_decisions_opened_total';
export const DECISION_WAIT_METRIC = 'rollout_decision_wait_seconds';

/** A decision waits seconds (a click) to days (a manual step over a weekend). */
export const DECISION_WAIT_BUCKETS_SECONDS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400, 259_200, 604_800,
] as const;

const tags = (plan: Pick<RolloutPlan, 'deployable'>) => ({ deployable: plan.deployable });

/** A rollout's first run began (not a continue-as-new run). */
export function rolloutStarted(plan: RolloutPlan): void {
  metricMeter.createCounter(ROLLOUTS_STARTED_METRIC, '1', 'Rollouts started').add(1, tags(plan));
  log.info('rollout started', {
    deployable: plan.deployable,
    release: plan.release,
    requestedBy: plan.requestedBy,
    targets: plan.targets.length,
  });
}

export function rolloutEnded(plan: RolloutPlan, s: RolloutSummary): void {
  metricMeter
    .createCounter(ROLLOUTS_ENDED_METRIC, '1', 'Rollouts ended, by final status')
    .add(1, { ...tags(plan), status: s.status });
  const fields = { deployable: plan.deployable, release: plan.release, status: s.status, stopReason: s.stopReason };
  if (s.status === 'succeeded') log.info(`rollout ${s.status}`, fields);
  else log.warn(`rollout ${s.status}`, fields);
}

/** One (step, target) reached its outcome: succeeded, failed, excluded or skipped. */
export function targetFinished(plan: RolloutPlan, step: string, target: string, outcome: TargetState): void {
  metricMeter
    .createCounter(TARGETS_METRIC, '1', 'Targets that finished a step, by outcome')
    .add(1, { ...tags(plan), step, outcome });
  log.info(`target ${outcome}`, { step, target, outcome });
}

export function decisionOpened(plan: RolloutPlan, d: Decision): void {
  metricMeter
    .createCounter(DECISIONS_OPENED_METRIC, '1', 'Decisions asked of a human (failures and manual steps)')
    .add(1, { ...tags(plan), kind: d.kind });
  log.info('decision waiting', { decisionId: d.id, kind: d.kind, step: d.step, target: d.target });
}

/** How long a decision waited, by who answered: a person, its timeout, or the rollout stopping. */
export function decisionAnswered(plan: RolloutPlan, d: Decision, a: DecisionAnswer): void {
  const waitedMs = Date.parse(a.at) - Date.parse(d.createdAt);
  const answeredBy = a.by === 'timeout' || a.by === 'rollout' ? a.by : 'person';
  if (Number.isFinite(waitedMs)) {
    metricMeter
      .createHistogram(DECISION_WAIT_METRIC, 'float', 's', 'Time a decision waited for its answer')
      .record(Math.max(0, waitedMs) / 1000, { ...tags(plan), kind: d.kind, choice: a.choice, answeredBy });
  }
  log.info('decision answered', { decisionId: d.id, choice: a.choice, by: a.by, waitedMs });
}
