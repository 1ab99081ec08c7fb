// Shared targets: before a target's first child step, a rollout takes the target's lock (workflows/targetLock.ts)
// and it releases it after the last (also when the rollout stops, fails or is cancelled). While it waits, the
// target's record, the summary and the thread say on what and since when.
import {
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { TargetPlan } from '../../domain/plan';
import type { TargetStepDetail } from '../messages';
import { targetLockWorkflow } from '../targetLock';
import { acquireLockSignal, releaseLockSignal, targetLockId } from '../targetLockMessages';
import { now, type RolloutState } from './state';

/** Patch id: rollouts recorded before shared targets replay without locks. */
export const PATCH_SHARED_TARGETS = 'teamsops.shared-targets';

/** Takes the target's lock; false when the rollout was cancelled or aborted while waiting (nothing ran). */
export async function acquireTarget(
  state: RolloutState,
  stepName: string,
  t: TargetPlan,
  rec: TargetStepDetail,
  key: string,
): Promise<boolean> {
  const id = targetLockId(key);
  const me = workflowInfo().workflowId;
  const since = now();
  const holder = { workflowId: me, label: `${state.plan.deployable} ${state.plan.release} (${stepName})`, at: since };
  for (let tries = 0; ; tries++) {
    try {
      await startChild(targetLockWorkflow, {
        workflowId: id,
        args: [{ key }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(id).signal(acquireLockSignal, holder);
      break;
    } catch (err) {
      // The lock workflow ended between the start and the signal (idle): start it again.
      if (tries >= 5) throw err;
    }
  }
  if (!state.grantedLocks.has(key)) {
    rec.waitingOn = { lock: key, since };
    state.lockWaits.set(t.name, { target: t.name, lock: key, since });
    state.notify({ type: 'targetWait', target: t.name, lock: key, since });
    await condition(
      () => state.grantedLocks.has(key) || state.stopKind === 'cancelled' || state.stopKind === 'aborted',
    );
    delete rec.waitingOn;
    state.lockWaits.delete(t.name);
  }
  if (!state.grantedLocks.has(key)) {
    await releaseTarget(state, key);
    return false;
  }
  return true;
}

export async function releaseTarget(state: RolloutState, key: string): Promise<void> {
  state.grantedLocks.delete(key);
  try {
    await getExternalWorkflowHandle(targetLockId(key)).signal(releaseLockSignal, {
      workflowId: workflowInfo().workflowId,
    });
  } catch {
    // The lock workflow is gone: nothing holds the target.
  }
}
