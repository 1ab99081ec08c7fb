// The `ApplicationFailure` types the workflows refuse with. Callers (the bot, the CLI) branch on these types,
// never on the wording of a message, which is for humans and may change.
export const REFUSAL = {
  /** A decision answer that cannot take effect: unknown, already answered, not a choice, not allowed. */
  decisionRefused: 'DecisionRefused',
  /** A cancel that cannot take effect: the rollout ended, is already stopping, or the caller may not. */
  cancelRefused: 'CancelRefused',
  /** A rollout request the queue will not take: wrong deployable, or already requested. */
  enqueueRefused: 'EnqueueRefused',
  /** A withdraw of a rollout that is not (or no longer) queued for this deployable. */
  notQueued: 'NotQueued',
  /** A withdraw that cannot take effect: the rollout runs already, or the caller may not. */
  withdrawRefused: 'WithdrawRefused',
  /** Someone else holds the deployable's lock: a rollout request, a lock without take-over, an unlock. */
  locked: 'Locked',
  /** An unlock of a deployable nobody holds. */
  notLocked: 'NotLocked',
  /** A lock request that cannot take effect (no reason given). */
  lockRefused: 'LockRefused',
  /** A rollback that cannot take effect: stale (a later release came), nothing to roll back to, queue not idle. */
  rollbackRefused: 'RollbackRefused',
  /** A pause, resume or window change that cannot take effect: ended, stopping, a duplicate, or not allowed. */
  steerRefused: 'SteerRefused',
  /** A rollout to an environment of a lifecycle whose release has not succeeded in the environment before it. */
  promotionRefused: 'PromotionRefused',
  /** Four eyes: the rollout's requester may not approve this decision (someone else must). */
  fourEyes: 'FourEyes',
} as const;

export type RefusalType = (typeof REFUSAL)[keyof typeof REFUSAL];
