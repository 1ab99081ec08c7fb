// Decision cards posted in the rollout's thread (a failure to answer, a manual step to confirm) and the
// outcome each card is replaced with once answered.
import { FAILURE_CHOICES, MANUAL_CHOICES, type DecisionChoice } from '../../../domain/decisions';
import type { Decision } from '../../../workflows/messages';
import {
  ACTION_FOR_CHOICE,
  BLOCK_DECISION_ACTIONS,
  BLOCK_DECISION_ASKING,
  BLOCK_DECISION_FACTS,
  BLOCK_DECISION_INSTRUCTIONS,
  BLOCK_DECISION_NOT_RUN,
  BLOCK_DECISION_OUTCOME,
  BLOCK_DECISION_TAIL,
  encodeButtonValue,
  nthBlockId,
} from './ids';
import { mentionList } from './mentions';
import {
  button,
  chunkEscaped,
  keepHead,
  contextBlock,
  fallback,
  fitEnd,
  formatUtcTime,
  LIMITS,
  mrkdwnSection,
  name,
  who,
  type Block,
  type Button,
  type ConfirmSpec,
  type SlackMessage,
} from './text';

/** Instructions of a manual step span at most this many sections (3,000 characters each). */
export const INSTRUCTION_SECTIONS = 3;

const CHOICE_LABEL: Readonly<Record<DecisionChoice, string>> = {
  fail: 'Fail',
  retry: 'Retry',
  ignore: 'Ignore',
  exclude: 'Exclude',
  proceed: 'Proceed',
  abort: 'Abort',
};

const CHOICE_EMOJI: Readonly<Record<DecisionChoice, string>> = {
  fail: ':x:',
  retry: ':repeat:',
  ignore: ':see_no_evil:',
  exclude: ':no_entry:',
  proceed: ':white_check_mark:',
  abort: ':octagonal_sign:',
};

// ---- facts ------------------------------------------------------------------------------------------------

/** The exit code field: a run whose outcome is unknown has no exit code to show, and says why. */
function exitText(code: number | null | undefined, outcome?: Decision['outcome']): string {
  if (outcome === 'unknown') return 'unknown (contact lost while it ran)';
  if (outcome === 'not-started') return 'none (it did not start)';
  return code === undefined || code === null ? 'none' : String(code);
}

function failureHeading(d: Decision): string {
  const on = d.target !== undefined ? ` on *${name(d.target, 80)}*` : '';
  return `:x: Step *${name(d.step, 80)}* failed${on}`;
}

/** Fenced output tail: the START is cut so the end of the log stays; fits one section with its fences. */
export function tailBlock(tail: string | undefined): string {
  if (tail === undefined || tail.trim() === '') return '_No output captured._';
  // A ``` inside the log would close the fence early.
  const raw = tail.replace(/```/g, '`\u200b`\u200b`').replace(/\s+$/, '');
  const fence = '```';
  const room = LIMITS.sectionText - 2 * fence.length - 2;
  return `${fence}\n${fitEnd(raw, room, (n) => `… (${n} earlier characters cut)\n`)}\n${fence}`;
}

function failureFacts(d: Decision): Block[] {
  const field = (label: string, value: string) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value}` });
  return [
    {
      type: 'section',
      block_id: BLOCK_DECISION_FACTS,
      text: { type: 'mrkdwn', text: failureHeading(d) },
      fields: [
        field('Step', name(d.step, 200)),
        field('Target', d.target !== undefined ? name(d.target, 200) : '—'),
        field('Child step', d.childStep !== undefined ? name(d.childStep, 200) : '—'),
        field('Exit code', exitText(d.exitCode, d.outcome)),
      ],
    },
    mrkdwnSection(tailBlock(d.tail), BLOCK_DECISION_TAIL),
    // Said before anyone clicks: Ignore on a script that never started is not a success.
    ...(d.notRun ? [mrkdwnSection(NOT_RUN_NOTE, BLOCK_DECISION_NOT_RUN)] : []),
  ];
}

/** What a failure card adds when the script never started on the target (domain/outcomes.ts). */
export const NOT_RUN_NOTE =
  ':warning: *The script did not run on this target* (it could not be reached or trusted). ' +
  '*Ignore* records this child step as _skipped (not run)_, not as succeeded; a target where nothing ran is not ' +
  'counted as deployed.';

function manualFacts(d: Decision): Block[] {
  const blocks: Block[] = [mrkdwnSection(`:raised_hand: Manual step *${name(d.step, 80)}*`, BLOCK_DECISION_FACTS)];
  const chunks = d.instructions ? chunkEscaped(d.instructions, LIMITS.sectionText, INSTRUCTION_SECTIONS) : [];
  if (chunks.length === 0) chunks.push('_No instructions given._');
  chunks.forEach((c, i) => blocks.push(mrkdwnSection(c, nthBlockId(BLOCK_DECISION_INSTRUCTIONS, i))));
  return blocks;
}

function facts(d: Decision): Block[] {
  return d.kind === 'manual' ? manualFacts(d) : failureFacts(d);
}

function footer(rolloutId: string, d: Decision): Block {
  const asked = formatUtcTime(d.createdAt);
  return contextBlock([
    `Rollout \`${name(rolloutId, 200)}\` · decision \`${name(d.id, 100)}\`${asked ? ` · asked at ${asked}` : ''}`,
  ]);
}

/** The choices offered, in `order`, limited to those the decision allows (all of `order` when it lists none). */
function offered(d: Decision, order: readonly DecisionChoice[]): DecisionChoice[] {
  const allowed = order.filter((c) => d.choices.includes(c));
  return allowed.length > 0 ? allowed : [...order];
}

function plainFallbackName(s: string | undefined, max = 80): string {
  return s === undefined ? '' : name(s, max);
}

// ---- cards ------------------------------------------------------------------------------------------------

function choiceButton(rolloutId: string, d: Decision, choice: DecisionChoice): Button {
  const value = encodeButtonValue({ rolloutId, decisionId: d.id, choice });
  const actionId = ACTION_FOR_CHOICE[choice];
  const target = d.target !== undefined ? keepHead(d.target, 60) : undefined;
  let confirm: ConfirmSpec | undefined;
  let style: 'primary' | 'danger' | undefined;
  let text = CHOICE_LABEL[choice];
  switch (choice) {
    case 'fail':
      style = 'danger';
      confirm = {
        title: 'Fail the rollout?',
        text:
          'The rollout stops and is marked failed: no new targets or steps start, only steps set to run on failure ' +
          'or always still run. Nothing already done is undone.',
        confirm: 'Fail rollout',
        deny: 'Back',
      };
      break;
    case 'retry':
      style = 'primary';
      text = 'Retry';
      break;
    case 'exclude':
      text = 'Exclude machine';
      confirm = {
        title: target !== undefined ? `Exclude ${target} from this rollout?` : 'Exclude the machine from this rollout?',
        text:
          `${target ?? 'The machine'} is left as it is now: none of its remaining child steps or steps run in this ` +
          'rollout (not even cleanup). The rollout goes on with the other targets.',
        confirm: 'Exclude',
        deny: 'Back',
      };
      break;
    case 'abort':
      style = 'danger';
      confirm = {
        title: 'Abort the rollout?',
        text: 'The rollout stops and is marked aborted: the remaining steps do not run. Nothing already done is undone.',
        confirm: 'Abort rollout',
        deny: 'Back',
      };
      break;
    case 'proceed':
      style = 'primary';
      break;
    case 'ignore':
      break;
  }
  return button({ text, actionId, value, ...(style ? { style } : {}), ...(confirm ? { confirm } : {}) });
}

/** `Waiting for <@U1>, <@U2>`: the people who may answer, mentioned so that Slack notifies them. */
function askingBlock(mentions: string): Block {
  return mrkdwnSection(`:bell: Waiting for ${mentions}`, BLOCK_DECISION_ASKING);
}

/** Four eyes: who is asked, and who may not approve (the starter, who may still Abort). */
function fourEyesAsking(mentions: string, notBy: string): string {
  const starter = mentionList([notBy]);
  return mentions
    ? `${mentions} (four eyes: ${starter} started this rollout and may not approve it)`
    : `anyone but ${starter} (four eyes: who started this rollout may not approve it)`;
}

function card(
  rolloutId: string,
  d: Decision,
  order: readonly DecisionChoice[],
  text: string,
  answerers: readonly string[],
): SlackMessage {
  const listed = mentionList(answerers);
  const mentions = d.notBy !== undefined ? fourEyesAsking(listed, d.notBy) : listed;
  return {
    // The fallback text is what a notification shows: the mentions go there too.
    text: fallback(mentions ? `${text} ${mentions}` : text),
    blocks: [
      ...facts(d),
      ...(mentions ? [askingBlock(mentions)] : []),
      footer(rolloutId, d),
      {
        type: 'actions',
        block_id: BLOCK_DECISION_ACTIONS,
        elements: offered(d, order).map((c) => choiceButton(rolloutId, d, c)),
      },
    ],
  };
}

/**
 * A failed child step waiting for Fail / Retry / Ignore / Exclude machine. `answerers`: who may answer (the
 * approvers, or the requester when anyone may), mentioned on the card.
 */
export function failureCard(rolloutId: string, decision: Decision, answerers: readonly string[] = []): SlackMessage {
  const d = decision;
  const on = d.target !== undefined ? ` on ${plainFallbackName(d.target)}` : '';
  const notRun = d.notRun ? ' (the script did not run)' : '';
  return card(
    rolloutId,
    d,
    FAILURE_CHOICES,
    `Step ${plainFallbackName(d.step)} failed${on}${notRun}: what now?`,
    answerers,
  );
}

/** A manual step waiting for Proceed / Abort; `answerers` as for failureCard. */
export function manualCard(rolloutId: string, decision: Decision, answerers: readonly string[] = []): SlackMessage {
  return card(
    rolloutId,
    decision,
    MANUAL_CHOICES,
    `Manual step ${plainFallbackName(decision.step)}: proceed or abort?`,
    answerers,
  );
}

// ---- outcomes ---------------------------------------------------------------------------------------------

/** `Retry chosen by <@U1> at 14:03 UTC` (or who/what chose it automatically). */
export function outcomeLine(d: Decision): string {
  const a = d.answer;
  if (!a) return ':hourglass: _No longer waiting for an answer._';
  const at = formatUtcTime(a.at);
  const when = at ? ` at ${at}` : '';
  const label = `*${CHOICE_LABEL[a.choice] ?? name(a.choice, 30)}*`;
  const emoji = CHOICE_EMOJI[a.choice] ?? ':ballot_box_with_check:';
  if (a.by === 'timeout') return `${emoji} ${label} chosen automatically when the step timed out${when}`;
  if (a.by === 'rollout') return `${emoji} ${label} chosen automatically as the rollout stopped${when}`;
  return `${emoji} ${label} chosen by ${who(a.by)}${when}`;
}

/** What a decision card (failure or manual) is replaced with once answered: the same facts, no buttons. */
export function decisionOutcome(rolloutId: string, decision: Decision): SlackMessage {
  const d = decision;
  const line = outcomeLine(d);
  const what =
    d.kind === 'manual'
      ? `Manual step ${plainFallbackName(d.step)}`
      : `Step ${plainFallbackName(d.step)} failed${d.target !== undefined ? ` on ${plainFallbackName(d.target)}` : ''}`;
  return {
    text: fallback(`${what}: ${line.replace(/^:[a-z_]+: /, '').replace(/\*/g, '')}`),
    blocks: [...facts(d), footer(rolloutId, d), mrkdwnSection(line, BLOCK_DECISION_OUTCOME)],
  };
}

/** The manual card's outcome: the same as decisionOutcome. */
export const manualOutcome = decisionOutcome;
