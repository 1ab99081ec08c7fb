// Who may answer what, and when a cancel can take effect: the rules the rollout's update validators and
// handlers apply. Every refusal is an ApplicationFailure of a REFUSAL type (callers branch on the type; the
// message is for humans and is shown as it is).
import { ApplicationFailure } from '@temporalio/workflow';
import { mayAct } from '../../domain/access';
import { REFUSAL } from '../../domain/failures';
import type { CancelInput, DecideInput, Decision } from '../messages';
import type { RolloutState } from './state';

const refuseDecision = (message: string) => ApplicationFailure.nonRetryable(message, REFUSAL.decisionRefused);

/**
 * Why a decision may be "not yet known": a worker that rebuilds this workflow from history (after a crash or a
 * cache eviction) runs a new update's validator BEFORE it replays the event that created the decision. An id
 * that could still appear (a number just past the last one issued) is therefore judged in the handler, after
 * the rest of the activation has run; every other unknown id is refused at once.
 */
export function couldStillAppear(state: RolloutState, decisionId: string): boolean {
  const m = /^d(\d+)$/.exec(decisionId);
  const n = m ? Number(m[1]) : 0;
  return n > state.decisionSeq && n <= state.decisionSeq + state.allTargets().length + 1;
}

/** The decision this answer takes effect on; refuses an unknown or answered decision, a wrong choice, a stranger. */
export function judge(state: RolloutState, { decisionId, choice, by }: DecideInput): Decision {
  const d = state.decisions.get(decisionId);
  if (!d) throw refuseDecision(`no decision "${decisionId}" in rollout ${state.rolloutId}`);
  if (d.answer) {
    throw refuseDecision(
      `decision ${decisionId} was already answered: ${d.answer.choice} by ${d.answer.by} at ${d.answer.at}`,
    );
  }
  if (!d.choices.includes(choice))
    throw refuseDecision(`"${choice}" is not an answer to ${decisionId} (${d.choices.join(', ')})`);
  // The one rule (domain/access.ts): the configured list decides whether there is a restriction at all, its
  // expansion (resolved when the rollout started) who is in it; a list that resolves to nobody allows nobody.
  const { list, members } = d.kind === 'manual' ? state.manualApprovers(d.step) : state.rolloutApprovers();
  if (!mayAct(by, list, members)) throw refuseDecision(`${by} is not allowed to answer ${decisionId}`);
  // Four eyes: whoever started the rollout may stop it, never approve it themselves.
  if (d.notBy !== undefined && by === d.notBy && choice === 'proceed') {
    throw ApplicationFailure.nonRetryable(
      `four eyes: ${by} started rollout ${state.rolloutId} and may not approve ${d.step} themselves; someone else must proceed`,
      REFUSAL.fourEyes,
    );
  }
  return d;
}

/** The decide validator: judges now, unless the decision could still appear later in this activation. */
export function validateDecision(state: RolloutState, input: DecideInput): void {
  if (!state.decisions.has(input.decisionId) && couldStillAppear(state, input.decisionId)) return;
  judge(state, input);
}

/** The cancel validator: a rollout that ended or is already stopping cannot be cancelled; nor by a stranger. */
export function validateCancel(state: RolloutState, { by }: CancelInput): void {
  const refuse = (message: string) => ApplicationFailure.nonRetryable(message, REFUSAL.cancelRefused);
  const { rolloutId } = state;
  if (state.status !== 'running') throw refuse(`rollout ${rolloutId} already ended (${state.status})`);
  if (state.stopKind) throw refuse(`rollout ${rolloutId} is already stopping: ${state.stopReason}`);
  const { list, members } = state.rolloutApprovers();
  if (by !== state.plan.requestedBy && !mayAct(by, list, members))
    throw refuse(`${by} is not allowed to cancel ${rolloutId}`);
}
