// What a deployable remembers besides its queue: its releases (who, when, outcome, which targets), the release
// each target last received, and its lock. Kept by the deployable's own workflow and carried over its
// continue-as-new, so it outlives Temporal's retention of the rollout workflows. Refusals are typed (REFUSAL).
import { ApplicationFailure } from '@temporalio/workflow';
import { promotionProblem } from '../../domain/environments';
import { REFUSAL } from '../../domain/failures';
import { LOCK_EVENTS_LIMIT, lockBlocks, type DeployableLock, type LockEvent } from '../../domain/locks';
import { recordRelease, type ReleaseOutcome, type ReleaseRecord, type TargetVersion } from '../../domain/releases';
import type { RolloutResult } from '../messages';
import type { QueueEntry } from '../queueMessages';
import type { LockInput, ReleaseHistory, UnlockInput } from '../releaseMessages';

/** The part of the deployable workflow's input these records travel in over continue-as-new. */
export interface CarriedReleases {
  releases?: ReleaseRecord[];
  targets?: Record<string, TargetVersion>;
  lock?: DeployableLock;
  lockEvents?: LockEvent[];
}

export class DeployableRecords {
  readonly releases: ReleaseRecord[];
  readonly targets: Record<string, TargetVersion>;
  lock: DeployableLock | undefined;
  readonly lockEvents: LockEvent[];

  constructor(
    readonly deployable: string,
    carried: CarriedReleases,
  ) {
    this.releases = [...(carried.releases ?? [])];
    this.targets = { ...(carried.targets ?? {}) };
    this.lock = carried.lock;
    this.lockEvents = [...(carried.lockEvents ?? [])];
  }

  carried(): CarriedReleases {
    return {
      releases: this.releases,
      targets: this.targets,
      ...(this.lock ? { lock: this.lock } : {}),
      lockEvents: this.lockEvents,
    };
  }

  history(): ReleaseHistory {
    return {
      deployable: this.deployable,
      releases: [...this.releases],
      targets: { ...this.targets },
      ...(this.lock ? { lock: this.lock } : {}),
      lockEvents: [...this.lockEvents],
    };
  }

  /** A rollout ended: its release joins the history (`result` is absent when the rollout gave none). */
  record(entry: QueueEntry, startedAt: string, endedAt: string, result: RolloutResult | undefined): void {
    const status = result?.status;
    const outcome: ReleaseOutcome = status === undefined || status === 'running' ? 'failed' : status;
    const targets = result?.targets;
    recordRelease(this.releases, this.targets, {
      rolloutId: entry.rolloutId,
      release: entry.plan.release,
      requestedBy: entry.plan.requestedBy,
      requestedAt: entry.requestedAt,
      startedAt,
      endedAt,
      outcome,
      ...(entry.plan.rollback ? { rollbackOf: entry.plan.rollback.of } : {}),
      ...(entry.plan.environment !== undefined ? { environment: entry.plan.environment } : {}),
      ...(targets
        ? { started: targets.length, received: targets.filter((t) => t.received).length, targets: [...targets] }
        : {}),
    });
  }

  // ---- rollout requests ---------------------------------------------------------------------------------------

  /**
   * A rollout request, beyond the queue's own rules: refused while someone else holds the lock; a rollback only
   * when it undoes the latest release and nothing runs or waits (else it would undo something it never saw).
   */
  validateRequest(entry: QueueEntry, busy: boolean): void {
    const locked = lockBlocks(this.deployable, this.lock, entry.plan.requestedBy);
    if (locked) throw ApplicationFailure.nonRetryable(locked, REFUSAL.locked);
    const rollback = entry.plan.rollback;
    if (!rollback) {
      // The lifecycle: a release enters an environment only once it succeeded in the one before (durable: the
      // record is this workflow's own release history, carried over continue-as-new).
      const { release, environment, requiresSuccessIn } = entry.plan;
      const missing =
        environment !== undefined
          ? promotionProblem(this.releases, release, environment, requiresSuccessIn)
          : undefined;
      if (missing) throw ApplicationFailure.nonRetryable(missing, REFUSAL.promotionRefused);
      return;
    }
    const refuse = (m: string) => ApplicationFailure.nonRetryable(m, REFUSAL.rollbackRefused);
    if (busy) throw refuse(`${this.deployable} has a rollout running or queued: roll back once it has ended`);
    // With environments, "latest" is the latest of the rollback's own environment (undefined for none: all).
    const env = entry.plan.environment;
    const latest = (env === undefined ? this.releases : this.releases.filter((r) => r.environment === env)).at(-1);
    if (latest?.rolloutId !== rollback.of) {
      throw refuse(
        `${rollback.of} is no longer the latest release of ${this.deployable}` +
          (latest ? `: ${latest.rolloutId} (${latest.release}) came after it` : ''),
      );
    }
  }

  // ---- the lock -----------------------------------------------------------------------------------------------

  validateLock({ by, reason, takeOver }: LockInput): void {
    if (!reason.trim()) throw ApplicationFailure.nonRetryable('a lock needs a reason', REFUSAL.lockRefused);
    const lock = this.lock;
    if (lock && lock.holder !== by && !takeOver) {
      throw ApplicationFailure.nonRetryable(
        `${this.deployable} is already locked by ${lock.holder} since ${lock.since}: ${lock.reason} (take it over explicitly to lock it yourself)`,
        REFUSAL.locked,
      );
    }
  }

  /** Takes the lock (the holder locking again changes the reason); a take-over records whose lock it was. */
  takeLock({ by, reason }: LockInput, at: string): DeployableLock {
    const old = this.lock;
    if (old && old.holder === by) {
      this.lock = { ...old, reason };
      this.note({ kind: 'locked', by, at, reason });
      return this.lock;
    }
    this.lock = {
      holder: by,
      reason,
      since: at,
      ...(old ? { takenFrom: { holder: old.holder, reason: old.reason, since: old.since } } : {}),
    };
    this.note(old ? { kind: 'taken-over', by, at, reason, from: old.holder } : { kind: 'locked', by, at, reason });
    return this.lock;
  }

  validateUnlock({ by }: UnlockInput): void {
    const lock = this.lock;
    if (!lock) throw ApplicationFailure.nonRetryable(`${this.deployable} is not locked`, REFUSAL.notLocked);
    if (lock.holder !== by) {
      throw ApplicationFailure.nonRetryable(
        `${this.deployable} is locked by ${lock.holder} since ${lock.since}: ${lock.reason} (only the holder unlocks; take it over first)`,
        REFUSAL.locked,
      );
    }
  }

  unlock({ by }: UnlockInput, at: string): DeployableLock {
    const lock = this.lock as DeployableLock;
    this.lock = undefined;
    this.note({ kind: 'unlocked', by, at });
    return lock;
  }

  private note(e: LockEvent): void {
    this.lockEvents.push(e);
    if (this.lockEvents.length > LOCK_EVENTS_LIMIT)
      this.lockEvents.splice(0, this.lockEvents.length - LOCK_EVENTS_LIMIT);
  }
}
