// One long-lived workflow per deployable: a first-come-first-served queue of rollouts, one running at a time.
// Reached with Update-with-Start; continues as new between rollouts so its history stays small for ever.
// The queue and its rules are in deployable/queue.ts, the release history and the lock in deployable/releases.ts;
// this function wires the messages and runs the rollouts.
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
import { lockUpdate, releaseHistoryQuery, unlockUpdate } from './releaseMessages';
import type { RolloutResult } from './messages';
import { RolloutQueue } from './deployable/queue';
import { DeployableRecords, type CarriedReleases } from './deployable/releases';
import { rolloutWorkflow } from './rollout';

export interface DeployableInput extends CarriedReleases {
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
  const records = new DeployableRecords(input.deployable, input);
  const now = () => new Date().toISOString();
  const busy = () => rollouts.running !== undefined || rollouts.queue.length > 0;

  setHandler(deployableStateQuery, () => ({ ...rollouts.state(), ...(records.lock ? { lock: records.lock } : {}) }));
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
    {
      validator: (entry) => {
        rollouts.validateEnqueue(entry);
        records.validateRequest(entry, busy());
      },
    },
  );
  setHandler(withdrawUpdate, (request) => rollouts.withdraw(request), {
    validator: (request) => rollouts.validateWithdraw(request),
  });
  setHandler(releaseHistoryQuery, () => records.history());
  setHandler(lockUpdate, (request) => records.takeLock(request, now()), {
    validator: (request) => records.validateLock(request),
  });
  setHandler(unlockUpdate, (request) => records.unlock(request, now()), {
    validator: (request) => records.validateUnlock(request),
  });

  // Lock changes cost history too: an idle deployable also continues as new once its history is long.
  const historyFull = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT;
  };
  const carryOn = async () => {
    await condition(allHandlersFinished);
    await continueAsNew<typeof deployableWorkflow>({
      deployable: input.deployable,
      queue: rollouts.queue,
      recent: rollouts.recent,
      ...records.carried(),
    });
  };

  for (;;) {
    await condition(() => rollouts.queue.length > 0 || historyFull());
    if (rollouts.queue.length === 0) await carryOn();
    const startedAt = now();
    const next = rollouts.start(startedAt);
    let status: FinishedRollout['status'] = 'failed';
    let result: RolloutResult | undefined;
    try {
      const child = await startChild(rolloutWorkflow, {
        workflowId: next.rolloutId,
        args: [{ plan: next.plan }],
        // The rollout outlives this workflow's continue-as-new and any termination of the queue.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      result = await child.result();
      status = result.status;
    } catch {
      status = 'failed';
    }
    const endedAt = now();
    rollouts.finish(next, status, endedAt);
    records.record(next, startedAt, endedAt, result);

    if (historyFull() && rollouts.queue.length === 0) await carryOn();
  }
}
