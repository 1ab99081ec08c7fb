// One target's chain of child steps inside one step: the child steps in order under their run conditions, stopping
// at a failure a human must decide. The same rules run in two places, so they are written once, here:
//   - the target-chain workflow (a child workflow per target; rollouts started before `inline-chain`), whose child
//     steps are one activity each;
//   - the `runChain` activity (rollouts started since), which runs the whole chain over the target's connection.
// Pure: the caller supplies how one child step runs.
import { conditionScope, ifHolds, runConditionHolds, type RunStatus } from './conditions';
import type { ScriptAction, TargetPlan } from './plan';

/** What became of one child step on one target. */
export type ChildState = 'succeeded' | 'failed' | 'ignored' | 'skipped';

export interface ChildResult {
  name: string;
  state: ChildState;
  exitCode?: number | null;
  /** A bounded tail of stdout and stderr (or the transport error). */
  tail?: string;
  error?: string;
  startedAt?: string;
  endedAt?: string;
  attempt: number;
  /** The run on the target this result is about (run-once: the id Retry re-attaches to). */
  runId?: string;
  /**
   * unknown: contact with the target was lost while the script ran and its outcome could not be read; not-started:
   * nothing ran (could not connect). Absent: the script ran and this is its real outcome.
   */
  outcome?: 'unknown' | 'not-started';
  /** When the target was last heard from, with outcome unknown. */
  lostContactAt?: string;
  /**
   * The script never started on the target (it could not be reached, or run-once's outcome `not-started`); see
   * domain/outcomes.ts.
   */
  notRun?: boolean;
}

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
  /**
   * Runs of this target's previous chain whose outcomes the workflow has recorded (runChain only): the first child
   * step that runs removes them from the target.
   */
  cleanupRunIds?: string[];
}

/** The runs of a chain's result that the next chain on the target may remove (outcome recorded, not unknown). */
export function recordedRuns(result: ChainResult): string[] {
  return result.children.flatMap((c) => (c.runId && c.outcome !== 'unknown' ? [c.runId] : []));
}

export interface ChainResult {
  children: Array<ChildResult & { index: number }>;
  status: RunStatus;
  outputs: Record<string, Record<string, string>>;
  /** Set when the chain stopped at a failed child step to wait for a decision. */
  pausedAt?: number;
}

/** What running one child step gave: its result, and the output variables it set. */
export interface ChildRun {
  result: ChildResult;
  outputs: Record<string, string>;
}

export type RunChild = (
  child: ScriptAction,
  index: number,
  ctx: { outputs: Record<string, Record<string, string>>; reattachRunId?: string },
) => Promise<ChildRun>;

/**
 * Runs the chain from input.startIndex. `runOnce`: an unknown outcome always goes to a human (nothing may run it
 * again by itself), whatever the child step's onFailure says (false only for chains replayed from before run-once).
 */
export async function runChainSteps(input: ChainInput, runOnce: boolean, run: RunChild): Promise<ChainResult> {
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
    const reattach = index === input.startIndex ? input.reattachRunId : undefined;
    const { result, outputs: set } = await run(child, index, {
      outputs,
      ...(reattach ? { reattachRunId: reattach } : {}),
    });
    if (Object.keys(set).length > 0) outputs[child.name] = { ...outputs[child.name], ...set };
    children.push({ ...result, index });
    if (result.state === 'failed') {
      // A child running because the chain already failed does not ask again: the human already decided.
      const ask = child.onFailure === 'guided' || (runOnce && result.outcome === 'unknown');
      if (input.guided && status === 'success' && ask) {
        return { children, status, outputs, pausedAt: index };
      }
      status = 'failure';
    }
  }
  return { children, status, outputs };
}

/** What a script activity reported, as a child step's result (see RunScriptOutput in activities/scripts.ts). */
export interface ScriptOutcome {
  exitCode: number | null;
  tail: string;
  startedAt: string;
  endedAt: string;
  error?: string;
  runId?: string;
  outcome?: 'unknown' | 'not-started';
  lostContactAt?: string;
}

export function childResultOf(name: string, attempt: number, out: ScriptOutcome): ChildResult {
  const ok = out.exitCode === 0 && !out.error;
  return {
    name,
    state: ok ? 'succeeded' : 'failed',
    exitCode: out.exitCode,
    tail: out.tail,
    startedAt: out.startedAt,
    endedAt: out.endedAt,
    attempt,
    ...(out.error ? { error: out.error } : {}),
    ...(out.runId ? { runId: out.runId } : {}),
    ...(out.outcome ? { outcome: out.outcome } : {}),
    ...(out.outcome === 'not-started' ? { notRun: true } : {}),
    ...(out.lostContactAt ? { lostContactAt: out.lostContactAt } : {}),
  };
}

/** A child step whose activity failed for good: `error` says why, `notRun` when it failed before it could start. */
export function childFailureOf(name: string, attempt: number, error: string, notRun: boolean): ChildResult {
  return { name, state: 'failed', error, attempt, ...(notRun ? { notRun: true } : {}) };
}
