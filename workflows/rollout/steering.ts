// Steering a running rollout: a pause by a person, a hold by a deploy freeze, and a window that replaces the
// rolling steps' own (MaxParallelism at start, or a window change). Pausing follows the stopping rule without
// ending the rollout: nothing new starts, started targets finish their chains, and the rollout waits in a named
// state ("Paused", "Frozen") until it is resumed or the freeze ends. Every change is recorded with who and when,
// shown in status and told in the thread.
import { mayAct } from '../../domain/access';
import { ApplicationFailure } from '@temporalio/workflow';
import { REFUSAL } from '../../domain/failures';
import type { FreezePlan } from '../../domain/plan';
import { SUMMARY_LIST_LIMIT, type CarriedSteering, type RolloutSummary } from '../messages';
import type { PauseInput, ResumeInput, SteerResult, SteeringRecord, WindowInput } from '../steeringMessages';
import { now } from './clock';
import type { ThreadNote } from './outbox';
import type { RolloutState } from './state';

/** The largest window a window change may ask for (a typo guard; a farm this big uses percentages anyway). */
export const MAX_WINDOW = 10_000;

export class Steering {
  paused: CarriedSteering['paused'];
  frozen: CarriedSteering['frozen'];
  windowOverride: CarriedSteering['windowOverride'];
  private readonly records: SteeringRecord[];

  constructor(
    carried: CarriedSteering | undefined,
    private readonly thread: { notify(n: ThreadNote): void },
  ) {
    this.paused = carried?.paused;
    this.frozen = carried?.frozen;
    this.windowOverride = carried?.windowOverride;
    this.records = [...(carried?.records ?? [])];
  }

  /** Nothing new may start: paused by a person or held by a freeze. */
  held(): boolean {
    return this.paused !== undefined || this.frozen !== undefined;
  }

  /** Records (bounded: the latest SUMMARY_LIST_LIMIT are kept and carried) and tells the thread. */
  record(r: SteeringRecord): SteeringRecord {
    this.records.push(r);
    if (this.records.length > SUMMARY_LIST_LIMIT) this.records.splice(0, this.records.length - SUMMARY_LIST_LIMIT);
    this.thread.notify({ type: 'steered', record: r });
    return r;
  }

  pause({ by, reason }: PauseInput): SteerResult {
    const at = now();
    this.paused = { by, at, ...(reason ? { reason } : {}) };
    return {
      record: this.record({ kind: 'paused', by, at, ...(reason ? { reason } : {}) }),
      message: 'paused: targets in flight finish their chains, nothing new starts until it is resumed',
    };
  }

  resume({ by }: ResumeInput): SteerResult {
    this.paused = undefined;
    const frozen = this.frozen;
    return {
      record: this.record({ kind: 'resumed', by, at: now() }),
      message: frozen
        ? `resumed, but still held by the freeze ${frozen.freeze} until ${frozen.until}`
        : 'resumed: new targets start again',
    };
  }

  setWindow({ by, window }: WindowInput): SteerResult {
    const at = now();
    const previous = this.windowOverride?.window;
    this.windowOverride = { window, by, at };
    return {
      record: this.record({ kind: 'window', by, at, window, ...(previous !== undefined ? { previous } : {}) }),
      message: `window set to ${window} for the running rolling step and every later one`,
    };
  }

  /** A freeze began (or was found in force): held until `until`. A second call for the same hold is silent. */
  freeze(f: FreezePlan, until: string): void {
    if (this.frozen?.freeze === f.name && this.frozen.until === until) return;
    this.frozen = { freeze: f.name, reason: f.reason, until };
    this.record({ kind: 'frozen', by: 'freeze', at: now(), freeze: f.name, reason: f.reason, until });
  }

  thaw(): void {
    const f = this.frozen;
    if (!f) return;
    this.frozen = undefined;
    this.record({ kind: 'thawed', by: 'freeze', at: now(), freeze: f.freeze });
  }

  summary(): Pick<RolloutSummary, 'paused' | 'frozen' | 'windowOverride' | 'steering'> {
    return {
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.frozen ? { frozen: this.frozen } : {}),
      ...(this.windowOverride ? { windowOverride: this.windowOverride } : {}),
      ...(this.records.length > 0 ? { steering: [...this.records] } : {}),
    };
  }

  toCarried(): CarriedSteering {
    return {
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.frozen ? { frozen: this.frozen } : {}),
      ...(this.windowOverride ? { windowOverride: this.windowOverride } : {}),
      records: [...this.records],
    };
  }
}

// ---- the validators: who may steer, and when ------------------------------------------------------------------

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, REFUSAL.steerRefused);

/** What every steering update needs: a rollout with steering, running, not stopping, and an approver asking. */
function validateSteer(state: RolloutState, by: string, what: string): void {
  const { rolloutId } = state;
  if (!state.steerable) throw refuse(`rollout ${rolloutId} started before ${what} existed; it cannot be steered`);
  if (state.status !== 'running') throw refuse(`rollout ${rolloutId} already ended (${state.status})`);
  if (state.stopKind) throw refuse(`rollout ${rolloutId} is stopping: ${state.stopReason}`);
  // The one rule (domain/access.ts), as for answering a decision: the rollout's approvers resolved at start; none
  // named = anyone, a list that resolves to nobody = nobody.
  const { list, members } = state.rolloutApprovers();
  if (!mayAct(by, list, members)) throw refuse(`${by} is not allowed to ${what} ${rolloutId}`);
}

export function validatePause(state: RolloutState, { by, reason }: PauseInput): void {
  validateSteer(state, by, 'pause');
  if (reason !== undefined && reason.length > 500) throw refuse('a pause reason is at most 500 characters');
  const p = state.steering.paused;
  if (p) throw refuse(`rollout ${state.rolloutId} is already paused (by ${p.by} at ${p.at})`);
}

export function validateResume(state: RolloutState, { by }: ResumeInput): void {
  validateSteer(state, by, 'resume');
  const f = state.steering.frozen;
  if (!state.steering.paused) {
    throw refuse(
      f
        ? `rollout ${state.rolloutId} is held by the freeze ${f.freeze} (${f.reason}) until ${f.until}; it resumes by itself when the freeze ends`
        : `rollout ${state.rolloutId} is not paused`,
    );
  }
}

export function validateWindow(state: RolloutState, { by, window }: WindowInput): void {
  validateSteer(state, by, 'change the window of');
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW)
    throw refuse(`a window is a whole number from 1 to ${MAX_WINDOW} (got ${String(window)})`);
  if (!state.rollingStepAhead()) throw refuse(`rollout ${state.rolloutId} has no rolling step left to run`);
  if (state.steering.windowOverride?.window === window) throw refuse(`the window is already ${window}`);
}
