// Messages of the per-deployable workflow (queue of rollouts), defined once for the workflow, bot and CLI.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RolloutStatus } from './messages';
import type { DeployableLock } from '../domain/locks';
import type { RolloutPlan } from '../domain/plan';

export interface QueueEntry {
  rolloutId: string;
  plan: RolloutPlan;
  requestedAt: string;
  /**
   * The plan's approvers expanded when the request was enqueued (groups included), for the queue's own check of
   * who may withdraw it. Absent on entries enqueued before it existed: then only plain user ids count.
   */
  approverMembers?: string[];
}

export interface QueuedRollout {
  rolloutId: string;
  release: string;
  requestedBy: string;
  requestedAt: string;
}

export interface FinishedRollout extends QueuedRollout {
  status: RolloutStatus;
  endedAt: string;
}

export interface DeployableState {
  deployable: string;
  running?: QueuedRollout & { startedAt: string };
  /** First come, first served. */
  queued: QueuedRollout[];
  /** The latest finished rollouts, newest last (bounded). */
  recent: FinishedRollout[];
  /** Who holds the deployable, and why (see releaseMessages.ts). */
  lock?: DeployableLock;
}

export interface EnqueueResult {
  rolloutId: string;
  /** 0: started at once; N: N-th in the queue behind the running rollout. */
  position: number;
  runningRolloutId?: string;
}

export interface WithdrawInput {
  rolloutId: string;
  by: string;
}

export const RECENT_LIMIT = 20;

export const enqueueUpdate = defineUpdate<EnqueueResult, [QueueEntry]>('enqueue');
export const withdrawUpdate = defineUpdate<{ rolloutId: string; withdrawn: true }, [WithdrawInput]>('withdraw');
export const deployableStateQuery = defineQuery<DeployableState>('deployableState');

/**
 * The queue workflow of a deployable. Its task queue is part of the id: two installations sharing a namespace
 * (different task queues) never share a queue.
 */
export function deployableWorkflowId(deployable: string, taskQueue: string): string {
  return `deployable-${deployable}@${taskQueue}`;
}
