// Every action_id and block_id the bot's messages use, and the values their buttons carry.
// The interaction handlers match on these constants; never inline the strings elsewhere.
import { isDecisionChoice, type DecisionChoice } from '../../../domain/decisions';

// ---- action ids -------------------------------------------------------------------------------------------
export const ACTION_DECIDE_FAIL = 'rollout.decide.fail';
export const ACTION_DECIDE_RETRY = 'rollout.decide.retry';
export const ACTION_DECIDE_IGNORE = 'rollout.decide.ignore';
export const ACTION_DECIDE_EXCLUDE = 'rollout.decide.exclude';
export const ACTION_MANUAL_PROCEED = 'rollout.manual.proceed';
export const ACTION_MANUAL_ABORT = 'rollout.manual.abort';
/** Cancel a running rollout (button value: see encodeRolloutValue). */
export const ACTION_CANCEL = 'rollout.cancel';
/** Withdraw a request the user made (button value: see encodeRolloutValue). */
export const ACTION_WITHDRAW = 'rollout.withdraw';
/**
 * Roll a deployable back (button value: encodeRolloutValue, with `rolloutId` the rollout being rolled back and
 * `release` the release the button restores).
 */
export const ACTION_ROLLBACK = 'rollout.rollback';
/** Pause / Resume a running rollout from its root message (button value: see encodeRolloutValue). */
export const ACTION_PAUSE = 'rollout.pause';
export const ACTION_RESUME = 'rollout.resume';
/** Start the rollout a plan preview showed (button value: see encodePreviewValue). */
export const ACTION_START_PREVIEWED = 'rollout.preview.start';

/** The action id of the button for each decision choice. */
export const ACTION_FOR_CHOICE: Readonly<Record<DecisionChoice, string>> = {
  fail: ACTION_DECIDE_FAIL,
  retry: ACTION_DECIDE_RETRY,
  ignore: ACTION_DECIDE_IGNORE,
  exclude: ACTION_DECIDE_EXCLUDE,
  proceed: ACTION_MANUAL_PROCEED,
  abort: ACTION_MANUAL_ABORT,
};

/** Every action id a decision button can carry (for `app.action(...)` registration). */
export const DECISION_ACTION_IDS = Object.values(ACTION_FOR_CHOICE);

// ---- block ids --------------------------------------------------------------------------------------------
export const BLOCK_ROOT_HEADER = 'rollout.root.header';
export const BLOCK_ROOT_STATUS = 'rollout.root.status';
export const BLOCK_ROOT_STEPS = 'rollout.root.steps';
export const BLOCK_ROOT_IN_FLIGHT = 'rollout.root.in_flight';
export const BLOCK_ROOT_FOOTER = 'rollout.root.footer';
export const BLOCK_DECISION_FACTS = 'rollout.decision.facts';
/** A failure card's note that the script never ran on the target. */
export const BLOCK_DECISION_NOT_RUN = 'rollout.decision.not_run';
export const BLOCK_DECISION_TAIL = 'rollout.decision.tail';
export const BLOCK_DECISION_INSTRUCTIONS = 'rollout.decision.instructions';
export const BLOCK_DECISION_ACTIONS = 'rollout.decision.actions';
/** Who the card waits for (mentions). */
export const BLOCK_DECISION_ASKING = 'rollout.decision.asking';
export const BLOCK_DECISION_OUTCOME = 'rollout.decision.outcome';
export const BLOCK_THREAD_EVENT = 'rollout.thread.event';
/** A pending decision's reminder / escalation in the thread, and the escalation posted to another channel. */
export const BLOCK_REMINDER = 'rollout.reminder';
export const BLOCK_ESCALATION = 'rollout.escalation';
export const BLOCK_STATUS_REPLY = 'rollout.thread.status';
export const BLOCK_EPHEMERAL = 'rollout.ephemeral';
export const BLOCK_HELP = 'rollout.help';
export const BLOCK_HISTORY = 'rollout.history';
export const BLOCK_ROLLBACK_PROMPT = 'rollout.rollback';
export const BLOCK_PREVIEW = 'rollout.preview';

/**
 * Block ids for a message made of several sections of the same kind: `prefix`, `prefix.2`, `prefix.3`...
 * (unique within a message, ≤ 255 as long as the prefix is one of the constants above).
 */
export function nthBlockId(prefix: string, index: number): string {
  return index === 0 ? prefix : `${prefix}.${index + 1}`;
}

// ---- button values ----------------------------------------------------------------------------------------
export const BUTTON_VALUE_MAX = 2000;

export interface DecisionButtonValue {
  rolloutId: string;
  decisionId: string;
  choice: DecisionChoice;
}

/**
 * Compact JSON (`{"r":…,"d":…,"c":…}`) so ids may hold any character. Throws a RangeError when the ids are so
 * long the value would pass Slack's 2,000 limit (Temporal workflow ids are at most 1,000 by default, so a real
 * rollout never gets there): the result is always ≤ 2,000 characters.
 */
export function encodeButtonValue(v: DecisionButtonValue): string {
  if (!v.rolloutId || !v.decisionId || !isDecisionChoice(v.choice)) {
    throw new RangeError('encodeButtonValue: rolloutId and decisionId must be non-empty and choice known');
  }
  const s = JSON.stringify({ r: v.rolloutId, d: v.decisionId, c: v.choice });
  if (s.length > BUTTON_VALUE_MAX) {
    throw new RangeError(`encodeButtonValue: value longer than ${BUTTON_VALUE_MAX} (${s.length})`);
  }
  return s;
}

/** The inverse of encodeButtonValue; undefined for anything that is not exactly such a value. */
export function decodeButtonValue(value: unknown): DecisionButtonValue | undefined {
  const o = parseObject(value);
  if (!o || Object.keys(o).length !== 3) return undefined;
  const { r, d, c } = o;
  if (typeof r !== 'string' || r.length === 0) return undefined;
  if (typeof d !== 'string' || d.length === 0) return undefined;
  if (!isDecisionChoice(c)) return undefined;
  return { rolloutId: r, decisionId: d, choice: c };
}

export interface RolloutButtonValue {
  rolloutId: string;
  /** The deployable whose queue holds the rollout (Withdraw asks that queue; nothing parses it out of the id). */
  deployable: string;
  release: string;
}

/**
 * Value of the Cancel / Withdraw buttons: compact JSON (`{"rollout":…,"deployable":…,"release":…}`), whose keys
 * never match a decision value's. Throws a RangeError when a field is empty or the value would pass 2,000
 * characters (a generated rollout id holds the deployable (≤ 63) and the release (≤ 128), so a real one never gets
 * near).
 */
export function encodeRolloutValue(v: RolloutButtonValue): string {
  if (!v.rolloutId || !v.deployable || !v.release) {
    throw new RangeError('encodeRolloutValue: rolloutId, deployable and release must be non-empty');
  }
  const s = JSON.stringify({ rollout: v.rolloutId, deployable: v.deployable, release: v.release });
  if (s.length > BUTTON_VALUE_MAX) {
    throw new RangeError(`encodeRolloutValue: value longer than ${BUTTON_VALUE_MAX} (${s.length})`);
  }
  return s;
}

/** The inverse of encodeRolloutValue; undefined for anything that is not exactly such a value. */
export function decodeRolloutValue(value: unknown): RolloutButtonValue | undefined {
  const o = parseObject(value);
  if (!o || Object.keys(o).length !== 3) return undefined;
  const { rollout, deployable, release } = o;
  if (typeof rollout !== 'string' || rollout.length === 0) return undefined;
  if (typeof deployable !== 'string' || deployable.length === 0) return undefined;
  if (typeof release !== 'string' || release.length === 0) return undefined;
  return { rolloutId: rollout, deployable, release };
}

export interface PreviewButtonValue {
  deployable: string;
  release: string;
  /** planHash of the plan the preview showed: Start refuses when the config now gives another. */
  hash: string;
}

/** Value of the preview's Start button: compact JSON (`{"preview":…,"release":…,"hash":…}`). */
export function encodePreviewValue(v: PreviewButtonValue): string {
  if (!v.deployable || !v.release || !/^[0-9a-f]{16}$/.test(v.hash)) {
    throw new RangeError('encodePreviewValue: deployable and release must be non-empty and hash 16 hex digits');
  }
  const s = JSON.stringify({ preview: v.deployable, release: v.release, hash: v.hash });
  if (s.length > BUTTON_VALUE_MAX) {
    throw new RangeError(`encodePreviewValue: value longer than ${BUTTON_VALUE_MAX} (${s.length})`);
  }
  return s;
}

/** The inverse of encodePreviewValue; undefined for anything that is not exactly such a value. */
export function decodePreviewValue(value: unknown): PreviewButtonValue | undefined {
  const o = parseObject(value);
  if (!o || Object.keys(o).length !== 3) return undefined;
  const { preview, release, hash } = o;
  if (typeof preview !== 'string' || preview.length === 0) return undefined;
  if (typeof release !== 'string' || release.length === 0) return undefined;
  if (typeof hash !== 'string' || !/^[0-9a-f]{16}$/.test(hash)) return undefined;
  return { deployable: preview, release, hash };
}

/** A button value parsed as a JSON object, or undefined (not a string, too long, not JSON, not an object). */
function parseObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > BUTTON_VALUE_MAX) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}
