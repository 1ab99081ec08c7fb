// One long-lived workflow per deployable: a first-come-first-served queue of rollouts, one running at a time.
// Reached with Update-with-Start; continues as new between rollouts so its history stays small for ever.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  deployableStateQuery,
  enqueueUpdate,
  RECENT_LIMIT,
  withdrawUpdate,
  type DeployableState,
  type FinishedRollout,
  type QueueEntry,
  type QueuedRollout,
} from './queueMessages';
import { rolloutWorkflow } from './rollout';

export interface DeployableInput {
  deployable: string;
  /** Carried over continue-as-new. */
  queue?: QueueEntry[];
  recent?: FinishedRollout[];
}

/** Continue as new after this many history events, between rollouts. */
const HISTORY_LIMIT = 2_000;

const brief = (e: QueueEntry): QueuedRollout => ({
  rolloutId: e.rolloutId,
  release: e.plan.release,
  requestedBy: e.plan.requestedBy,
  requestedAt: e.requestedAt,
});

export async function deployableWorkflow(input: DeployableInput): Promise<void> {
  const queue: QueueEntry[] = [...(input.queue ?? [])];
  const recent: FinishedRollout[] = [...(input.recent ?? [])];
  let running: (QueuedRollout & { startedAt: string; plan: QueueEntry['plan'] }) | undefined;
  const seen = new Set<string>([...queue.map((q) => q.rolloutId), ...recent.map((r) => r.rolloutId)]);

  setHandler(deployableStateQuery, (): DeployableState => ({
    deployable: input.deployable,
    ...(running ? { running: { ...brief({ rolloutId: running.rolloutId, plan: running.plan, requestedAt: running.requestedAt }), startedAt: running.startedAt } } : {}),
    queued: queue.map(brief),
    recent: [...recent],
  }));

  setHandler(
    enqueueUpdate,
    (entry) => {
      seen.add(entry.rolloutId);
      // Position as the requester sees it: how many rollouts are ahead (the running one included); 0 = starts now.
      const ahead = queue.length + (running ? 1 : 0);
      const blocking = running?.rolloutId ?? queue[0]?.rolloutId;
      queue.push(entry);
      return { rolloutId: entry.rolloutId, position: ahead, ...(ahead > 0 && blocking ? { runningRolloutId: blocking } : {}) };
    },
    {
      validator: (entry) => {
        if (entry.plan.deployable !== input.deployable) {
          throw new Error(`rollout of ${entry.plan.deployable} sent to the queue of ${input.deployable}`);
        }
        if (seen.has(entry.rolloutId) || running?.rolloutId === entry.rolloutId) {
          throw new Error(`rollout ${entry.rolloutId} was already requested`);
        }
      },
    },
  );

  setHandler(
    withdrawUpdate,
    ({ rolloutId }) => {
      const i = queue.findIndex((q) => q.rolloutId === rolloutId);
      if (i >= 0) queue.splice(i, 1);
      return { rolloutId, withdrawn: true as const };
    },
    {
      validator: ({ rolloutId, by }) => {
        if (running?.rolloutId === rolloutId) throw new Error(`${rolloutId} is already running: cancel it instead`);
        const entry = queue.find((q) => q.rolloutId === rolloutId);
        if (!entry) throw new Error(`${rolloutId} is not queued for ${input.deployable}`);
        const may = by === entry.plan.requestedBy || entry.plan.approvers.includes(by);
        if (!may) throw new Error(`${by} may not withdraw ${rolloutId} (only ${entry.plan.requestedBy} or an approver)`);
      },
    },
  );

  for (;;) {
    await condition(() => queue.length > 0);
    const next = queue.shift() as QueueEntry;
    running = { ...brief(next), startedAt: new Date().toISOString(), plan: next.plan };
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
    recent.push({ ...brief(next), status, endedAt: new Date().toISOString() });
    if (recent.length > RECENT_LIMIT) recent.splice(0, recent.length - RECENT_LIMIT);
    running = undefined;

    const info = workflowInfo();
    if ((info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT) && queue.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof deployableWorkflow>({ deployable: input.deployable, queue, recent });
    }
  }
}
