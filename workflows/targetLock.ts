// One lock per shared target (host:port, or a declared shared name): a long-lived workflow that grants the target
// to one rollout at a time, first come first served. Holders ask by signal (acquireLockSignal), are granted by a
// signal back (lockGrantedSignal) and release by signal; everything is durable (it survives worker restarts). It
// continues as new after LOCK_CONTINUE_AFTER grants (bounded history) and ends once idle for a while.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
} from '@temporalio/workflow';
import {
  acquireLockSignal,
  lockGrantedSignal,
  releaseLockSignal,
  targetLockQuery,
  type TargetLockState,
} from './targetLockMessages';
import { now } from './rollout/clock';

export const LOCK_CONTINUE_AFTER = 200;
/** Idle (no holder, nobody waiting) this long: the lock workflow ends (the next asker starts it again). */
export const LOCK_IDLE_MS = 60_000;

export async function targetLockWorkflow(input: { key: string; carried?: TargetLockState }): Promise<void> {
  const state: TargetLockState = input.carried ?? { key: input.key, queue: [], grants: 0 };
  let grantsThisRun = 0;
  setHandler(targetLockQuery, () => state);
  setHandler(acquireLockSignal, (h) => {
    // The same holder asking again (a retried send) keeps its place.
    if (state.holder?.workflowId === h.workflowId || state.queue.some((q) => q.workflowId === h.workflowId)) return;
    state.queue.push(h);
  });
  setHandler(releaseLockSignal, ({ workflowId }) => {
    if (state.holder?.workflowId === workflowId) state.holder = undefined;
    else state.queue = state.queue.filter((q) => q.workflowId !== workflowId);
  });
  for (;;) {
    const busy = await condition(() => !state.holder && state.queue.length > 0, LOCK_IDLE_MS);
    if (!busy) {
      if (!state.holder && state.queue.length === 0) {
        await condition(allHandlersFinished);
        if (!state.holder && state.queue.length === 0) return;
      }
      continue;
    }
    const next = state.queue.shift();
    if (!next) continue;
    const at = now();
    state.holder = { ...next, since: at };
    state.grants++;
    grantsThisRun++;
    try {
      await getExternalWorkflowHandle(next.workflowId).signal(lockGrantedSignal, { key: state.key, at });
    } catch {
      // The holder is gone (finished, terminated): the lock is free again.
      state.holder = undefined;
    }
    if (grantsThisRun >= LOCK_CONTINUE_AFTER && state.holder) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof targetLockWorkflow>({ key: state.key, carried: state });
    }
  }
}
