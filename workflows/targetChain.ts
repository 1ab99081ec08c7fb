// One target's chain of child steps inside one step, as a child workflow per (step, target): how rollouts started
// before `inline-chain` (workflows/rollout/steps.ts) run a target. Since then a rollout runs each chain as one
// `runChain` activity instead (domain/chain.ts has the rules both follow). Kept for rollouts still in flight.
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { childFailureOf, childResultOf, runChainSteps, type ChainInput, type ChainResult } from '../domain/chain';
import { NOT_RUN_FAILURE_TYPES } from '../domain/outcomes';

export type { ChainInput, ChainResult } from '../domain/chain';

/**
 * Patch id of run-once (issue 9): chains started with it give each script activity its place (child index, attempt)
 * for the run id, unlimited retries (a retry re-attaches to the run on the target, it never runs the script again),
 * the runs to re-attach to and to clean up, and pause for a human on an unknown outcome whatever onFailure says.
 * Chains started before it replay with the old activity options (maximumAttempts 3).
 */
export const RUN_ONCE_PATCH = 'rollout-run-once';

/** A single activity attempt may follow a run for the script's timeout plus this long (covers the lost-contact bound). */
export const RUN_ONCE_ATTEMPT_SLACK_SEC = 660;

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
  // Runs whose outcomes this chain has recorded and that are still on the target: the next activity removes them.
  let recorded: string[] = [];
  return runChainSteps(input, runOnce, async (child, index, { outputs, reattachRunId }) => {
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
        ...(runOnce
          ? {
              childIndex: index,
              attempt: input.attempt,
              ...(reattachRunId ? { reattachRunId } : {}),
              ...(recorded.length > 0 ? { cleanupRunIds: recorded } : {}),
            }
          : {}),
      });
      recorded = out.runId && out.outcome !== 'unknown' ? [out.runId] : [];
      return { result: childResultOf(child.name, input.attempt, out), outputs: out.outputs };
    } catch (err) {
      return {
        result: childFailureOf(child.name, input.attempt, describeFailure(err), neverRan(err)),
        outputs: {},
      };
    }
  });
}
