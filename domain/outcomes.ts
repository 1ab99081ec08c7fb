// Honest outcomes: what counts as "the script never ran" and as "deployed". Shared by the workflows (which
// record it), the Slack cards (which say it before anyone clicks) and the CLI.

/**
 * Failure types (the transports' TransportError kinds, carried as the activity's ApplicationFailure type) that
 * mean the script did not start on the target: nothing could be reached, logged into or trusted. A failure of
 * any other type (a non-zero exit, a timeout, a lost worker) may have run the script, at least in part.
 */
export const NOT_RUN_FAILURE_TYPES: ReadonlySet<string> = new Set([
  'connection-refused',
  'auth-failed',
  'host-key-mismatch',
  'host-key-unknown',
  'connect-timeout',
  'unreachable',
  // An artifact that does not exist on the worker or has no readable checksum: nothing was copied or run.
  'artifact-invalid',
  'key-missing',
  'no-transport',
]);

/** Patch ids (workflow `patched()`): rollouts recorded before a change replay the way they ran. */
export const PATCHES = {
  /** Ignore on a never-run failure records "skipped (not run)"; a step that deployed nowhere fails the rollout. */
  honestOutcomes: 'honest-outcomes',
  /** The queue's position answer waits for the rest of the activation (a rollout that just ended is not ahead). */
  queuePositionSettled: 'queue-position-settled',
} as const;

/** `3 deployed · 1 excluded · 1 not run` (excluded and not run only when there are any). */
export function outcomeCountsText(o: { deployed: number; excluded: number; notRun: number }): string {
  return [
    `${o.deployed} deployed`,
    ...(o.excluded ? [`${o.excluded} excluded`] : []),
    ...(o.notRun ? [`${o.notRun} not run`] : []),
  ].join(' · ');
}
