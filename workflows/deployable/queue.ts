// A deployable's queue: the rollouts waiting (first come, first served), the one running, the latest finished,
// and the rules for joining and leaving it. Every refusal is an ApplicationFailure of a REFUSAL type.
import { ApplicationFailure } from '@temporalio/workflow';
import { mayAct } from '../../domain/access';
import { REFUSAL } from '../../domain/failures';
import {
  RECENT_LIMIT,
  type DeployableState,
  type EnqueueResult,
  type FinishedRollout,
  type QueueEntry,
  type QueuedRollout,
  type WithdrawInput,
} from '../queueMessages';
import type { DeployableInput } from '../deployable';

const brief = (e: QueueEntry): QueuedRollout => ({
  rolloutId: e.rolloutId,
  release: e.plan.release,
  requestedBy: e.plan.requestedBy,
  requestedAt: e.requestedAt,
});

export class RolloutQueue {
  readonly deployable: string;
  readonly queue: QueueEntry[];
  readonly recent: FinishedRollout[];
  running: (QueuedRollout & { startedAt: string; plan: QueueEntry['plan'] }) | undefined;
  /** Every rollout id this queue has taken (queued or finished): a second request with one is refused. */
  private readonly seen: Set<string>;

  constructor(input: DeployableInput) {
    this.deployable = input.deployable;
    this.queue = [...(input.queue ?? [])];
    this.recent = [...(input.recent ?? [])];
    this.seen = new Set([...this.queue.map((q) => q.rolloutId), ...this.recent.map((r) => r.rolloutId)]);
  }

  state(): DeployableState {
    const { running } = this;
    return {
      deployable: this.deployable,
      ...(running
        ? {
            running: {
              ...brief({ rolloutId: running.rolloutId, plan: running.plan, requestedAt: running.requestedAt }),
              startedAt: running.startedAt,
            },
          }
        : {}),
      queued: this.queue.map(brief),
      recent: [...this.recent],
    };
  }

  validateEnqueue(entry: QueueEntry): void {
    const refuse = (message: string) => ApplicationFailure.nonRetryable(message, REFUSAL.enqueueRefused);
    if (entry.plan.deployable !== this.deployable) {
      throw refuse(`rollout of ${entry.plan.deployable} sent to the queue of ${this.deployable}`);
    }
    if (this.seen.has(entry.rolloutId) || this.running?.rolloutId === entry.rolloutId) {
      throw refuse(`rollout ${entry.rolloutId} was already requested`);
    }
  }

  enqueue(entry: QueueEntry): EnqueueResult {
    this.seen.add(entry.rolloutId);
    // Position as the requester sees it: how many rollouts are ahead (the running one included); 0 = starts now.
    const ahead = this.queue.length + (this.running ? 1 : 0);
    const blocking = this.running?.rolloutId ?? this.queue[0]?.rolloutId;
    this.queue.push(entry);
    return {
      rolloutId: entry.rolloutId,
      position: ahead,
      ...(ahead > 0 && blocking ? { runningRolloutId: blocking } : {}),
    };
  }

  /** Where a taken rollout stands now: how many rollouts are really ahead of it (0 = it starts or started). */
  positionOf(rolloutId: string): EnqueueResult {
    if (this.running?.rolloutId === rolloutId) return { rolloutId, position: 0 };
    const i = this.queue.findIndex((q) => q.rolloutId === rolloutId);
    const ahead = Math.max(i, 0) + (this.running ? 1 : 0);
    const blocking = this.running?.rolloutId ?? this.queue[0]?.rolloutId;
    return { rolloutId, position: ahead, ...(ahead > 0 && blocking ? { runningRolloutId: blocking } : {}) };
  }

  validateWithdraw({ rolloutId, by }: WithdrawInput): void {
    if (this.running?.rolloutId === rolloutId) {
      throw ApplicationFailure.nonRetryable(
        `${rolloutId} is already running: cancel it instead`,
        REFUSAL.withdrawRefused,
      );
    }
    const entry = this.queue.find((q) => q.rolloutId === rolloutId);
    if (!entry)
      throw ApplicationFailure.nonRetryable(`${rolloutId} is not queued for ${this.deployable}`, REFUSAL.notQueued);
    // The one rule (domain/access.ts) over the expanded approvers; an empty approver list lets only the requester
    // withdraw (a withdraw drops someone else's request, so "no restriction" does not extend to it).
    const { approvers } = entry.plan;
    const members = entry.approverMembers ?? approvers.filter((a) => !a.startsWith('@'));
    const may = by === entry.plan.requestedBy || (approvers.length > 0 && mayAct(by, approvers, members));
    if (!may) {
      throw ApplicationFailure.nonRetryable(
        `${by} may not withdraw ${rolloutId} (only ${entry.plan.requestedBy} or an approver)`,
        REFUSAL.withdrawRefused,
      );
    }
  }

  withdraw({ rolloutId }: WithdrawInput): { rolloutId: string; withdrawn: true } {
    const i = this.queue.findIndex((q) => q.rolloutId === rolloutId);
    if (i >= 0) this.queue.splice(i, 1);
    return { rolloutId, withdrawn: true as const };
  }

  /** Takes the next rollout off the queue and marks it running. */
  start(startedAt: string): QueueEntry {
    const next = this.queue.shift() as QueueEntry;
    this.running = { ...brief(next), startedAt, plan: next.plan };
    return next;
  }

  /** The running rollout ended: it joins the recent ones (the latest RECENT_LIMIT). */
  finish(entry: QueueEntry, status: FinishedRollout['status'], endedAt: string): void {
    this.recent.push({ ...brief(entry), status, endedAt });
    if (this.recent.length > RECENT_LIMIT) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
    this.running = undefined;
  }
}
