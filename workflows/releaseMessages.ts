// Messages of the per-deployable workflow for day-to-day operations (release history, rollback, locks), defined
// once for the workflow, the bot and the CLI. The queue's own messages are in queueMessages.ts.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DeployableLock, LockEvent } from '../domain/locks';
import type { ReleaseRecord, TargetVersion } from '../domain/releases';

export interface ReleaseHistory {
  deployable: string;
  /** Newest last, at most RELEASE_HISTORY_LIMIT. */
  releases: ReleaseRecord[];
  /** Per target: the release it last received successfully. */
  targets: Record<string, TargetVersion>;
  lock?: DeployableLock;
  /** The latest lock changes, newest last (take-overs included). */
  lockEvents: LockEvent[];
}

export interface LockInput {
  by: string;
  reason: string;
  /** Take the lock even when someone else holds it (recorded as a take-over). */
  takeOver?: boolean;
}

export interface UnlockInput {
  by: string;
}

export const releaseHistoryQuery = defineQuery<ReleaseHistory>('releaseHistory');
export const lockUpdate = defineUpdate<DeployableLock, [LockInput]>('lock');
export const unlockUpdate = defineUpdate<DeployableLock, [UnlockInput]>('unlock');
