// One target's chain of child steps inside one step: runs them in order under their run conditions.
// A child workflow per (step, target) keeps the rollout workflow's history small: there, a target costs a
// handful of events however many child steps it has.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { conditionScope, ifHolds, runConditionHolds, type RunStatus } from '../domain/conditions';
import { NOT_RUN_FAILURE_TYPES } from '../domain/outcomes';
import type { ChildResult } from './messages';
import type { ScriptAction, TargetPlan } from '../domain/plan';

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
  const outputs = { ...input.outputs };
  let status = input.status;
  const children: ChainResult['children'] = [];

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
    const { runScript } = proxyActivities<Activities>({
      // The script's own timeout (timeoutSec) is enforced by the activity: when it runs out, the transport kills
      // the script's whole process group on the target (SIGTERM, then SIGKILL) and reports a timed-out result.
      // The extra minute is for that kill and that report, so Temporal does not give up on the activity first
      // (and retry it) while the wrapper is still stopping the script.
      startToCloseTimeout: `${child.timeoutSec + 60}s`,
      heartbeatTimeout: '30s',
      // A script's exit code is a result, never retried; retries are for the activity failing: a transport error,
      // or a worker that crashed or was killed (no heartbeat for 30 s). Three attempts are safe enough today
      // because the wrapper takes a `flock` on the target's lock file before the script runs: a retry whose
      // original is still running on the target waits for it instead of overlapping it. It can still RUN THE
      // SCRIPT AGAIN (at least once, not exactly once): an original that finished before its result was
      // reported is re-run after it, so scripts should be idempotent. A later issue replaces this with detached
      // runs whose results are collected after a crash instead of re-running.
      retry: { maximumAttempts: 3, initialInterval: '2s', backoffCoefficient: 2 },
    });
    let result: ChildResult;
    try {
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
      });
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
      if (input.guided && status === 'success' && child.onFailure === 'guided') {
        return { children, status, outputs, pausedAt: index };
      }
      status = 'failure';
    }
  }
  return { children, status, outputs };
}
