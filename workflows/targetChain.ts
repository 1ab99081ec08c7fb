// One target's chain of child steps inside one step: runs them in order under their run conditions.
// A child workflow per (step, target) keeps the rollout workflow's history small: there, a target costs a
// handful of events however many child steps it has.
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { conditionScope, ifHolds, runConditionHolds, type RunStatus } from '../domain/conditions';
import { NOT_RUN_FAILURE_TYPES } from '../domain/outcomes';
import type { ChildResult } from './messages';
import type { ScriptAction, TargetPlan } from '../domain/plan';

/**
 * Patch id of run-once (issue 9): chains started with it give each script activity its place (child index, attempt)
 * for the run id, unlimited retries (a retry re-attaches to the run on the target, it never runs the script again),
 * the runs to re-attach to and to clean up, and pause for a human on an unknown outcome whatever onFailure says.
 * Chains started before it replay with the old activity options (maximumAttempts 3).
 */
export const RUN_ONCE_PATCH = 'rollout-run-once';

/** A single activity attempt may follow a run for the script's timeout plus this long (covers the lost-contact bound). */
export const RUN_ONCE_ATTEMPT_SLACK_SEC = 660;

export interface ChainInput {
  rolloutId: string;
  stepName: string;
  target: TargetPlan;
  childSteps: ScriptAction[];
  startIndex: number;
  /** The chain's status before startIndex: "failure" once a child step failed (and was not ignored/retried). */
  status: RunStatus;
  /** Counts runs of each child step for the attempt number shown to users. */
  attempt: number;
  /** May the chain stop at a failure and hand it back for a human decision? */
  guided: boolean;
  release: string;
  deployable: string;
  requestedBy: string;
  variables: Record<string, string>;
  outputs: Record<string, Record<string, string>>;
  /** Retry on an "outcome unknown" card: the child step at startIndex re-attaches to this run first (run-once). */
  reattachRunId?: string;
}

export interface ChainResult {
  children: Array<ChildResult & { index: number }>;
  status: RunStatus;
  outputs: Record<string, Record<string, string>>;
  /** Set when the chain stopped at a failed child step to wait for a decision. */
  pausedAt?: number;
}

function describeFailure(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/** The activity failed before the script could start (see NOT_RUN_FAILURE_TYPES). */
function neverRan(err: unknown): boolean {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return (
    e instanceof ApplicationFailure && e.type !== undefined && e.type !== null && NOT_RUN_FAILURE_TYPES.has(e.type)
  );
}

export async function targetChainWorkflow(input: ChainInput): Promise<ChainResult> {
  const runOnce = patched(RUN_ONCE_PATCH);
  const outputs = { ...input.outputs };
  let status = input.status;
  const children: ChainResult['children'] = [];
  // Runs whose outcomes this chain has recorded and that are still on the target: the next activity removes them.
  let recorded: string[] = [];

  for (let index = input.startIndex; index < input.childSteps.length; index++) {
    const child = input.childSteps[index];
    if (!child) break;
    const runs =
      runConditionHolds(child.runCondition, status) &&
      ifHolds(child.if, conditionScope(input, input.target, status, outputs));
    if (!runs) {
      children.push({ index, name: child.name, state: 'skipped', attempt: input.attempt });
      continue;
    }
    const { runScript } = proxyActivities<Activities>(
      runOnce
        ? {
            startToCloseTimeout: `${child.timeoutSec + RUN_ONCE_ATTEMPT_SLACK_SEC}s`,
            heartbeatTimeout: '30s',
            // No attempt limit: every retry re-attaches to the same run on the target (the script is started at most
            // once); the activity itself returns an unreachable target (past its bound) or a connect failure.
            retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
          }
        : {
            // Chains started before run-once replay with their old options: the activity enforced the script's
            // timeout and had a minute more to kill and report; up to three attempts, which could run a script
            // again (the target's flock only kept runs from overlapping).
            startToCloseTimeout: `${child.timeoutSec + 60}s`,
            heartbeatTimeout: '30s',
            retry: { maximumAttempts: 3, initialInterval: '2s', backoffCoefficient: 2 },
          },
    );
    let result: ChildResult;
    try {
      const reattach = index === input.startIndex ? input.reattachRunId : undefined;
      const out = await runScript({
        rolloutId: input.rolloutId,
        stepName: input.stepName,
        child,
        target: input.target,
        release: input.release,
        deployable: input.deployable,
        requestedBy: input.requestedBy,
        variables: input.variables,
        outputs,
        ...(runOnce
          ? {
              childIndex: index,
              attempt: input.attempt,
              ...(reattach ? { reattachRunId: reattach } : {}),
              ...(recorded.length > 0 ? { cleanupRunIds: recorded } : {}),
            }
          : {}),
      });
      recorded = out.runId && out.outcome !== 'unknown' ? [out.runId] : [];
      if (Object.keys(out.outputs).length > 0) outputs[child.name] = { ...outputs[child.name], ...out.outputs };
      const ok = out.exitCode === 0 && !out.error;
      result = {
        name: child.name,
        state: ok ? 'succeeded' : 'failed',
        exitCode: out.exitCode,
        tail: out.tail,
        startedAt: out.startedAt,
        endedAt: out.endedAt,
        attempt: input.attempt,
        ...(out.error ? { error: out.error } : {}),
        ...(out.runId ? { runId: out.runId } : {}),
        ...(out.outcome ? { outcome: out.outcome } : {}),
        ...(out.outcome === 'not-started' ? { notRun: true } : {}),
        ...(out.lostContactAt ? { lostContactAt: out.lostContactAt } : {}),
      };
    } catch (err) {
      result = {
        name: child.name,
        state: 'failed',
        error: describeFailure(err),
        attempt: input.attempt,
        ...(neverRan(err) ? { notRun: true } : {}),
      };
    }
    children.push({ ...result, index });
    if (result.state === 'failed') {
      // A child running because the chain already failed does not ask again: the human already decided.
      // An unknown outcome always goes to a human (run-once): nothing may run it again by itself.
      const ask = child.onFailure === 'guided' || (runOnce && result.outcome === 'unknown');
      if (input.guided && status === 'success' && ask) {
        return { children, status, outputs, pausedAt: index };
      }
      status = 'failure';
    }
  }
  return { children, status, outputs };
}
