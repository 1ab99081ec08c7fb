// Messages of the per-target lock workflow (workflows/targetLock.ts), defined once for both sides.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface LockHolder {
  /** The workflow that asked (granted by a signal back to it). */
  workflowId: string;
  /** What it is, for those waiting: `web-farm v2 (deploy)`. */
  label: string;
  /** When it asked (its workflow clock, ISO). */
  at: string;
}

export interface TargetLockState {
  key: string;
  holder?: LockHolder & { since: string };
  queue: LockHolder[];
  /** Grants made over the lock's life (across continue-as-new). */
  grants: number;
}

export const acquireLockSignal = defineSignal<[LockHolder]>('acquireTargetLock');
export const releaseLockSignal = defineSignal<[{ workflowId: string }]>('releaseTargetLock');
/** Sent to the holder: the lock `key` is its own now; `after` is who held it before (if anyone waited). */
export const lockGrantedSignal = defineSignal<[{ key: string; at: string }]>('targetLockGranted');
export const targetLockQuery = defineQuery<TargetLockState>('targetLock');

/** The lock workflow's id for a target identity (`host:port`, or a declared shared name). */
export function targetLockId(key: string): string {
  return `target-lock:${key}`;
}
