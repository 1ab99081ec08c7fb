// A deployable's lock: who holds it and why, and the rules for taking, taking over and releasing it. The lock
// lives in the deployable's queue workflow; these rules are plain functions so the bot and the CLI can say the
// same thing before they ask.

export interface DeployableLock {
  holder: string;
  reason: string;
  since: string;
  /** Set when the lock was taken over: whose it was. */
  takenFrom?: { holder: string; reason: string; since: string };
}

/** One change of a deployable's lock, kept (the latest LOCK_EVENTS_LIMIT) so a take-over stays on record. */
export interface LockEvent {
  kind: 'locked' | 'taken-over' | 'unlocked';
  by: string;
  at: string;
  reason?: string;
  /** taken-over: whose lock it was. */
  from?: string;
}

/** Lock changes remembered: enough to see who took the lock from whom lately; each is a few dozen bytes. */
export const LOCK_EVENTS_LIMIT = 20;

/** Someone other than the holder may not roll out while the lock is held: why, naming the holder. */
export function lockedMessage(deployable: string, lock: DeployableLock): string {
  return `${deployable} is locked by ${lock.holder} since ${lock.since}: ${lock.reason}`;
}

/** Why `by` may not roll the deployable out, or undefined (not locked, or `by` holds the lock). */
export function lockBlocks(deployable: string, lock: DeployableLock | undefined, by: string): string | undefined {
  return lock && lock.holder !== by ? lockedMessage(deployable, lock) : undefined;
}
