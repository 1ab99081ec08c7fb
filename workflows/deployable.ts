// One long-lived workflow per deployable: a first-come-first-served queue of rollouts, one running at a time.
// Reached with Update-with-Start; continues as new between rollouts so its history stays small for ever.
// The queue and its rules are in deployable/queue.ts; this function wires the messages and runs the rollouts.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  deployableStateQuery,
  enqueueUpdate,
  withdrawUpdate,
  type FinishedRollout,
  type QueueEntry,
} from './queueMessages';
import { PATCHES } from '../domain/outcomes';
import { RolloutQueue } from './deployable/queue';
import { rolloutWorkflow } from './rollout';

export interface DeployableInput {
  deployable: string;
  /** Carried over continue-as-new. */
  queue?: QueueEntry[];
  recent?: FinishedRollout[];
}

/**
 * Continue as new after this many history events, between rollouts. Each queued rollout costs this workflow a
 * handful of events (its enqueue update, the child's start and end: about 10 with the workflow tasks), and
 * every continue-as-new carries the whole queue, plans included, in its input. 2,000 is far below Temporal's
 * 51,200 (and its 10,240 warning), small enough that a worker rebuilding this workflow from history replays it
 * quickly, and large enough that a busy deployable continues as new only every couple of hundred rollouts.
 */
const HISTORY_LIMIT = 2_000;

/**
 * Lets every job of the current activation (and what it resumes) run first. The SDK applies an activation's
 * updates before its resolutions (a child's end) and runs no microtask until all jobs are applied; the code a
 * resolution resumes (here: `await child.result()`, then `rollouts.finish`) is a handful of microtasks deep.
 * Fifty turns are far more than that, cost no command and replay identically.
 */
async function restOfActivation(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

export async function deployableWorkflow(input: DeployableInput): Promise<void> {
  const rollouts = new RolloutQueue(input);

  setHandler(deployableStateQuery, () => rollouts.state());
  setHandler(
    enqueueUpdate,
    (entry) => {
      const taken = rollouts.enqueue(entry);
      if (!patched(PATCHES.queuePositionSettled)) return taken;
      // A worker that picks this workflow up after a restart gets the running rollout's end and this request in
      // one activation, the request first: its position is told once the rest of the activation has run, so a
      // rollout that already ended is not counted as ahead.
      return restOfActivation().then(() => rollouts.positionOf(entry.rolloutId));
    },
    { validator: (entry) => rollouts.validateEnqueue(entry) },
  );
  setHandler(withdrawUpdate, (request) => rollouts.withdraw(request), {
    validator: (request) => rollouts.validateWithdraw(request),
  });

  for (;;) {
    await condition(() => rollouts.queue.length > 0);
    const next = rollouts.start(new Date().toISOString());
    let status: FinishedRollout['status'] = 'failed';
    try {
      const child = await startChild(rolloutWorkflow, {
        workflowId: next.rolloutId,
        args: [{ plan: next.plan }],
        // The rollout outlives this workflow's continue-as-new and any termination of the queue.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      status = (await child.result()).status;
    } catch {
      status = 'failed';
    }
    rollouts.finish(next, status, new Date().toISOString());

    const info = workflowInfo();
    if ((info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT) && rollouts.queue.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof deployableWorkflow>({
        deployable: input.deployable,
        queue: rollouts.queue,
        recent: rollouts.recent,
      });
    }
  }
}
