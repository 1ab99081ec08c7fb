// A deployable's release history: the records its queue workflow keeps (bounded, carried over continue-as-new, so
// they outlive Temporal's retention of the rollouts themselves), and the pure rules read from them: which release
// a rollback restores, on which targets and in which order.

/** How a rollout of a release ended (a rollout's final status). */
export type ReleaseOutcome = 'succeeded' | 'failed' | 'cancelled' | 'aborted';

/** One target of one rollout: it began receiving the release; `received` when every step that ran on it succeeded. */
export interface TargetOutcome {
  name: string;
  received: boolean;
}

export interface ReleaseRecord {
  rolloutId: string;
  release: string;
  requestedBy: string;
  requestedAt: string;
  startedAt: string;
  endedAt: string;
  outcome: ReleaseOutcome;
  /** Set when this rollout was a rollback: the rollout it undid. */
  rollbackOf?: string;
  /** The environment it ran in (deployables with environments only). */
  environment?: string;
  /** How many targets began receiving the release, and how many received it (absent: the rollout did not say). */
  started?: number;
  received?: number;
  /**
   * The targets that began receiving the release, in the order they began. Kept on the latest
   * TARGET_DETAIL_RECORDS records only: a rollback reads the latest, and older ones keep their counts.
   */
  targets?: TargetOutcome[];
}

/** The release a target last received successfully. */
export interface TargetVersion {
  release: string;
  rolloutId: string;
  at: string;
}

/**
 * Releases a deployable remembers. Each record is small (a few hundred bytes without its target list), so 50 stay
 * far below Temporal's 2 MB payload limit even when they travel in every continue-as-new input; 50 is also more
 * history than a person reads in Slack.
 */
export const RELEASE_HISTORY_LIMIT = 50;
/**
 * Records that keep their per-target list. A rollback only ever reads the latest record (an older one is stale),
 * so a few are enough; with 1,000 targets each list is some 30 KB.
 */
export const TARGET_DETAIL_RECORDS = 5;

/**
 * Adds a finished rollout to the history (newest last, the oldest dropped past RELEASE_HISTORY_LIMIT, target
 * lists dropped past TARGET_DETAIL_RECORDS) and moves every target that received it to its release.
 */
export function recordRelease(
  history: ReleaseRecord[],
  versions: Record<string, TargetVersion>,
  record: ReleaseRecord,
): void {
  history.push(record);
  if (history.length > RELEASE_HISTORY_LIMIT) history.splice(0, history.length - RELEASE_HISTORY_LIMIT);
  for (let i = 0; i < history.length - TARGET_DETAIL_RECORDS; i++) {
    const old = history[i] as ReleaseRecord;
    if (old.targets) delete old.targets;
  }
  for (const t of record.targets ?? []) {
    if (t.received) versions[t.name] = { release: record.release, rolloutId: record.rolloutId, at: record.endedAt };
  }
}

/** The newest record before index `before` that succeeded with a release other than `release`. */
function lastSucceededBefore(
  history: readonly ReleaseRecord[],
  before: number,
  release: string,
): ReleaseRecord | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const r = history[i] as ReleaseRecord;
    if (r.outcome === 'succeeded' && r.release !== release) return r;
  }
  return undefined;
}

/**
 * What a Roll back button on rollout `rolloutId` (of `release`) offers: the last release that succeeded before it.
 * The rollout need not be in the history yet (its queue records it a moment after it ends): then every record is
 * before it.
 */
export function previousRelease(
  history: readonly ReleaseRecord[],
  rolloutId: string,
  release: string,
): ReleaseRecord | undefined {
  const i = history.findIndex((r) => r.rolloutId === rolloutId);
  return lastSucceededBefore(history, i >= 0 ? i : history.length, release);
}

export type RollbackChoice =
  | {
      ok: true;
      /** The release being rolled back: the deployable's latest. */
      current: ReleaseRecord;
      /** The release restored: the last that succeeded before `current`. */
      to: ReleaseRecord;
      /** `current` failed or was stopped: only its targets, newest-started first. */
      partial: boolean;
      /** The targets to roll back, in order; undefined = all of the deployable's, in their declared order. */
      targets?: string[];
    }
  | { ok: false; reason: string };

/**
 * The rollback rule. It rolls back the deployable's latest release (`of`, when given, must be that one: a
 * rollback of an older rollout is stale) to the last release that succeeded before it. A latest release that
 * failed or was cancelled or aborted is rolled back partially: only on the targets that began receiving it (the
 * half-deployed one included), in the reverse of the order they began.
 */
export function chooseRollback(deployable: string, history: readonly ReleaseRecord[], of?: string): RollbackChoice {
  const newest = history.at(-1);
  if (!newest) return { ok: false, reason: `${deployable} has no release history yet: there is nothing to roll back` };
  const current = of === undefined ? newest : history.find((r) => r.rolloutId === of);
  if (!current) return { ok: false, reason: `${of} is not in the release history of ${deployable}` };
  if (current !== newest) {
    return {
      ok: false,
      reason: `${current.rolloutId} (${current.release}) is no longer the latest release of ${deployable}: ${newest.rolloutId} (${newest.release}) came after it`,
    };
  }
  const to = lastSucceededBefore(history, history.length - 1, current.release);
  if (!to) {
    return {
      ok: false,
      reason: `no release of ${deployable} succeeded before ${current.release}: there is no earlier release to roll back to`,
    };
  }
  if (current.outcome === 'succeeded' || !current.targets) return { ok: true, current, to, partial: false };
  const targets = current.targets.map((t) => t.name).reverse();
  if (targets.length === 0) {
    return {
      ok: false,
      reason: `${current.release} ${current.outcome} before any target began receiving it: there is nothing to roll back`,
    };
  }
  return { ok: true, current, to, partial: true, targets };
}
