// The CLI's exit codes, in a module of their own: `rollout --help` loads this and commander, nothing else.

/** Exit codes. */
export const EXIT = {
  OK: 0,
  /** The thing asked for did not work: invalid config, rollout failed, update rejected, unexpected error. */
  FAILED: 1,
  /** Bad usage or request: nothing was started or changed. */
  USAGE: 2,
  /** An update/cancel could not be delivered: nothing was changed, retry. */
  UNDELIVERED: 3,
} as const;
