// The release check: a script run on the worker's own machine (local transport) before anything else. "Does
// this release exist? Is its checksum published?" If it fails (or cannot run), the rollout fails and no target
// is touched: no step runs, not even those that run on failure. The script runs once (run-once rules of
// activities/scripts.ts: a retried activity re-attaches to the run, it never starts it again).
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ReleaseCheckPlan, TargetPlan } from '../../domain/plan';
import { keepTail, TAIL_LIMITS } from '../../domain/text';
import type { ReleaseCheckSummary } from '../messages';
import { RUN_ONCE_ATTEMPT_SLACK_SEC } from '../targetChain';
import { now, type RolloutState } from './state';

/** Patch id: rollouts recorded before release checks replay without them. */
export const PATCH_RELEASE_CHECK = 'teamsops.release-check';

/** The name the check's run has (in run ids, outputs, the summary). */
export const RELEASE_CHECK_NAME = 'release-check';

/** Runs the check; true when it passed. On failure the rollout is stopped (failed) with the check's reason. */
export async function runReleaseCheck(state: RolloutState, check: ReleaseCheckPlan): Promise<boolean> {
  const { plan } = state;
  const { runScript } = proxyActivities<Activities>({
    startToCloseTimeout: `${check.timeoutSec + RUN_ONCE_ATTEMPT_SLACK_SEC}s`,
    heartbeatTimeout: '30s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const worker: TargetPlan = {
    name: RELEASE_CHECK_NAME,
    transport: 'local',
    host: '',
    port: 0,
    user: '',
    tags: [],
    workdir: check.workdir,
    strictHostKeyChecking: true,
    variables: {},
  };
  const summary: ReleaseCheckSummary = { state: 'running', startedAt: now() };
  state.releaseCheck = summary;
  let reason: string | undefined;
  try {
    const out = await runScript({
      rolloutId: state.rolloutId,
      stepName: RELEASE_CHECK_NAME,
      child: {
        name: RELEASE_CHECK_NAME,
        script: check.script,
        timeoutSec: check.timeoutSec,
        runCondition: 'success',
        onFailure: 'fail',
      },
      target: worker,
      release: plan.release,
      deployable: plan.deployable,
      requestedBy: plan.requestedBy,
      variables: plan.variables,
      outputs: {},
      childIndex: 0,
      attempt: 1,
    });
    summary.exitCode = out.exitCode;
    if (out.tail) summary.tail = keepTail(out.tail, TAIL_LIMITS.history);
    if (out.exitCode !== 0 || out.error) {
      reason = out.error ?? (out.timedOut ? 'timed out' : `exited ${out.exitCode ?? '?'}`);
    }
  } catch (err) {
    let e: unknown = err;
    while (e instanceof ActivityFailure && e.cause) e = e.cause;
    reason = e instanceof ApplicationFailure || e instanceof Error ? e.message : String(e);
  }
  summary.endedAt = now();
  summary.state = reason === undefined ? 'passed' : 'failed';
  if (reason === undefined) return true;
  const last = summary.tail?.trim().split('\n').pop();
  state.stop('failed', `release check failed (${reason})${last ? `: ${last}` : ''}; no target was touched`);
  state.stepStates.fill('skipped');
  return false;
}
