// Replies in the rollout's thread (the story of the rollout) and ephemeral answers.
import { outcomeCountsText } from '../../../domain/outcomes';
import type { RolloutSummary } from '../../../workflows/messages';
import { BLOCK_EPHEMERAL, BLOCK_STATUS_REPLY, BLOCK_THREAD_EVENT, nthBlockId } from './ids';
import { rampText, type StepRampInfo } from './steering';
import {
  footerTexts,
  inFlightLines,
  pendingDecisionLine,
  STATUS_EMOJI,
  statusLabel,
  statusLines,
  stepSections,
  title,
  titleMrkdwn,
  durationText,
  reasonText,
} from './summary';
import {
  chunkEscaped,
  contextBlock,
  escapeMrkdwn,
  fallback,
  LIMITS,
  mrkdwnSection,
  name,
  nameList,
  packLines,
  plural,
  type Block,
  type SlackMessage,
} from './text';

/** Target names listed in a step-started reply; the rest are counted. */
export const STEP_STARTED_NAMES = 20;
/** Pending decisions listed in a status reply; the rest are counted. */
export const STATUS_DECISIONS = 10;

/** `:arrow_forward: *deploy* started on 20 targets, 5 at a time: web1, web2, … +10 more`. */
export function stepStarted(
  stepName: string,
  targets: readonly string[],
  window?: number,
  ramp?: StepRampInfo,
): SlackMessage {
  const n = targets.length;
  const on = n === 0 ? '' : ` on ${plural(n, 'target')}`;
  const pace = ramp ? rampText(ramp) : window !== undefined && window > 0 && window < n ? `, ${window} at a time` : '';
  const list = n > 0 ? `: ${nameList(targets, n, STEP_STARTED_NAMES)}` : '';
  return {
    text: fallback(`Step ${name(stepName, 80)} started${on}${pace}`),
    blocks: [
      mrkdwnSection(`:arrow_forward: Step *${name(stepName, 80)}* started${on}${pace}${list}`, BLOCK_THREAD_EVENT),
    ],
  };
}

/** The last reply of the thread: how it ended, how long it took, the per-step counts, why it stopped. */
export function rolloutEnded(summary: RolloutSummary, now: Date): SlackMessage {
  const s = summary;
  const label = statusLabel(s).toLowerCase();
  const duration = durationText(s, now);
  const head = `${STATUS_EMOJI[s.status]} ${titleMrkdwn(s)} *${label}*${duration ? ` (${duration})` : ''} · ${outcomeCounts(s)}`;
  const lines = [head];
  if (s.stopReason) lines.push(`*Reason:* ${reasonText(s.stopReason)}`);
  if (s.failure) {
    const f = s.failure;
    const exit = f.exitCode !== undefined && f.exitCode !== null ? ` exited ${f.exitCode}` : ' failed';
    lines.push(
      `*First failure:* *${name(f.step, 60)}* on *${name(f.target, 60)}* — *${name(f.childStep, 60)}*${exit}${f.error ? `: ${name(f.error, 400)}` : ''}`,
    );
  }
  return {
    text: fallback(`${escapeMrkdwn(title(s))} ${label}${duration ? ` (${duration})` : ''}`),
    blocks: [mrkdwnSection(lines.join('\n'), BLOCK_THREAD_EVENT), ...stepSections(s, `${BLOCK_THREAD_EVENT}.steps`, 2)],
  };
}

/**
 * `3 deployed · 1 excluded · 1 not run` when the rollout counted its targets' outcomes (zeros but deployed left
 * out), else the number of targets, as rollouts recorded before those counts report it.
 */
export function outcomeCounts(s: RolloutSummary): string {
  return s.targetOutcomes ? outcomeCountsText(s.targetOutcomes) : plural(s.totalTargets, 'target');
}

/** The answer to `status` typed in the thread: everything the root message shows, plus the pending decisions. */
export function statusReply(summary: RolloutSummary, now: Date): SlackMessage {
  const s = summary;
  const blocks: Block[] = [
    mrkdwnSection([titleMrkdwn(s), ...statusLines(s, now)].join('\n'), BLOCK_STATUS_REPLY),
    ...stepSections(s, `${BLOCK_STATUS_REPLY}.steps`, 2),
  ];
  const flying = inFlightLines(s);
  if (flying.length > 0) {
    blocks.push(
      ...packLines(
        flying,
        `${BLOCK_STATUS_REPLY}.in_flight`,
        1,
        (n) => `_+${n} more steps with targets in flight_`,
        nthBlockId,
      ),
    );
  }
  if (s.pendingDecisions.length > 0) {
    const shown = s.pendingDecisions.slice(0, STATUS_DECISIONS).map(pendingDecisionLine);
    const more = s.pendingDecisions.length - shown.length;
    const lines = ['*Waiting for a decision:*', ...shown, ...(more > 0 ? [`_+${plural(more, 'more decision')}_`] : [])];
    blocks.push(...packLines(lines, `${BLOCK_STATUS_REPLY}.decisions`, 1, (n) => `_+${n} more_`, nthBlockId));
  }
  blocks.push(contextBlock(footerTexts(s, undefined), `${BLOCK_STATUS_REPLY}.footer`));
  return {
    text: fallback(`${escapeMrkdwn(title(s))}: ${statusLabel(s).toLowerCase()}`),
    blocks,
  };
}

export interface EphemeralOptions {
  /** The text is already mrkdwn built by the caller (mentions, links): not escaped. Default false. */
  mrkdwn?: boolean;
}

/** At most this many sections of text in an ephemeral message; the rest is cut. */
export const EPHEMERAL_SECTIONS = 10;

/** A short answer only the user sees (errors, confirmations). The text is escaped unless opts.mrkdwn. */
export function ephemeral(text: string, opts: EphemeralOptions = {}): SlackMessage {
  const raw = text.length > 0 ? text : ' ';
  let chunks: string[];
  if (opts.mrkdwn) {
    chunks = [];
    for (let i = 0; i < raw.length && chunks.length < EPHEMERAL_SECTIONS; i += LIMITS.sectionText) {
      chunks.push(raw.slice(i, i + LIMITS.sectionText));
    }
  } else {
    chunks = chunkEscaped(raw, LIMITS.sectionText, EPHEMERAL_SECTIONS);
  }
  return {
    text: fallback(chunks[0] ?? ' '),
    blocks: chunks.map((c, i) => mrkdwnSection(c, nthBlockId(BLOCK_EPHEMERAL, i))),
  };
}
