// Continue-as-new inside a step (issue 13: 10,000 targets complete with bounded history). Between steps the
// rollout continues as new past its threshold (rollout.ts); one step over thousands of targets would still overflow
// Temporal's 51,200 events on its own. With `scale.step-continue`, an exec step stops starting targets once its
// history (plus what the targets in flight will still add) passes the threshold, lets the started ones finish (no
// activity, child or decision may be open across continue-as-new: its result would be lost), waits for the thread
// to be posted and the update handlers to finish, and continues as new carrying "step si, go on with the targets
// still pending", its pacing and everything RolloutState carries (packed: compact.ts). The next run starts the rest.
// Rollouts started before the patch replay as they ran (never continue inside a step, carry the unpacked state).
import { allHandlersFinished, condition, continueAsNew, patched } from '@temporalio/workflow';
import type { RolloutInput, StepResume } from '../messages';
import type { rolloutWorkflow } from '../rollout';
import type { RolloutState } from './state';

export const PATCH_STEP_CONTINUE = 'scale.step-continue';

/**
 * What one target in flight still adds to the rollout's history once it has started (a child workflow's start
 * initiated, started and completed events, or an activity's scheduled, started and completed, and its share of
 * workflow tasks and of the updates that answer its decisions): a step stops starting targets when the history
 * plus this much per target in flight reaches the threshold, so a run ends close to the threshold, not a window's
 * worth of events past it.
 */
export const EVENTS_PER_TARGET_IN_FLIGHT = 8;

export interface StepContinuer {
  /** The threshold (RolloutInput.continueAsNewAfterEvents or the default). */
  readonly after: number;
  /** Continues as new at step `resume.step` once the thread and the handlers are idle. */
  go(resume: StepResume): Promise<never>;
}

/**
 * Called once at the start of every run: with the patch, the rollout may continue inside a step and carries its
 * state packed. `outbox` is the thread (idle once every note is posted).
 */
export function stepContinuer(
  state: RolloutState,
  input: RolloutInput,
  after: number,
  outbox: { readonly idle: boolean },
): StepContinuer | undefined {
  if (!patched(PATCH_STEP_CONTINUE)) return undefined;
  return {
    after,
    async go(resume) {
      await condition(() => outbox.idle && allHandlersFinished() && state.pendingDecisions().length === 0);
      return continueAsNew<typeof rolloutWorkflow>(nextInput(state, input, after, resume.step, resume));
    },
  };
}

/** The input of the next run, continuing at step `nextStep` (in its middle with `resume`). */
export function nextInput(
  state: RolloutState,
  input: RolloutInput,
  after: number,
  nextStep: number,
  resume?: StepResume,
): RolloutInput {
  const carried = state.toCarried(nextStep, resume !== undefined);
  return {
    // Packed: the targets travel in carried.packed.
    plan: carried.packed ? { ...input.plan, targets: [] } : input.plan,
    continueAsNewAfterEvents: after,
    carried: resume ? { ...carried, resume } : carried,
  };
}

/** Past the threshold, counting what the targets in flight will still add, with at least one target started. */
export function shouldContinue(
  continuer: StepContinuer | undefined,
  historyLength: number,
  inFlight: number,
  startedThisRun: number,
): boolean {
  return (
    continuer !== undefined &&
    startedThisRun > 0 &&
    historyLength + inFlight * EVENTS_PER_TARGET_IN_FLIGHT >= continuer.after
  );
}
