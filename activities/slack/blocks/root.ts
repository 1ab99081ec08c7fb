// The one root message per rollout: posted when it starts, updated as the summary changes.
import type { RolloutSummary } from '../../../workflows/messages';
import {
  ACTION_CANCEL,
  ACTION_ROLLBACK,
  BLOCK_ROOT_FOOTER,
  BLOCK_ROOT_HEADER,
  BLOCK_ROOT_IN_FLIGHT,
  BLOCK_ROOT_STATUS,
  BLOCK_ROOT_STEPS,
  encodeRolloutValue,
  nthBlockId,
} from './ids';
import { footerTexts, inFlightLines, progressLine, statusLabel, statusLines, stepSections, title } from './summary';
import {
  button,
  keepHead,
  contextBlock,
  escapeMrkdwn,
  fallback,
  LIMITS,
  mrkdwnSection,
  packLines,
  type Block,
  type SlackMessage,
} from './text';

export interface RootMessageOptions {
  /** Base URL of the Temporal UI (e.g. `http://localhost:8233`); adds a link to the workflow. */
  temporalUiUrl?: string;
  /** The namespace the rollout runs in, for that link (default `default`). */
  temporalNamespace?: string;
  /** The time elapsed time is counted to while the rollout runs. */
  now: Date;
  /** Adds a Cancel button (with a confirmation) while the rollout runs. Off by default. */
  showCancel?: boolean;
  /** Once the rollout has ended: the release a Roll back button restores (the last that succeeded before it). */
  rollbackTo?: string;
}

export function rootMessage(summary: RolloutSummary, opts: RootMessageOptions): SlackMessage {
  const s = summary;
  const blocks: Block[] = [
    {
      type: 'header',
      block_id: BLOCK_ROOT_HEADER,
      text: { type: 'plain_text', text: keepHead(title(s), LIMITS.headerText) },
    },
    mrkdwnSection(statusLines(s, opts.now).join('\n'), BLOCK_ROOT_STATUS),
    ...stepSections(s, BLOCK_ROOT_STEPS, 2),
  ];
  const flying = inFlightLines(s);
  if (flying.length > 0) {
    blocks.push(
      ...packLines(flying, BLOCK_ROOT_IN_FLIGHT, 1, (n) => `_+${n} more steps with targets in flight_`, nthBlockId),
    );
  }
  blocks.push(contextBlock(footerTexts(s, opts.temporalUiUrl, opts.temporalNamespace), BLOCK_ROOT_FOOTER));
  if (opts.showCancel && s.status === 'running' && !s.stopReason) {
    blocks.push({
      type: 'actions',
      block_id: `${BLOCK_ROOT_FOOTER}.actions`,
      elements: [
        button({
          text: 'Cancel rollout',
          actionId: ACTION_CANCEL,
          value: encodeRolloutValue({ rolloutId: s.rolloutId, deployable: s.deployable, release: s.release }),
          style: 'danger',
          confirm: {
            title: 'Cancel the rollout?',
            text: `${keepHead(title(s), 120)}: no new targets or steps start; targets in flight finish what they are doing. Nothing already done is undone.`,
            confirm: 'Cancel rollout',
            deny: 'Keep going',
          },
        }),
      ],
    });
  }
  if (opts.rollbackTo !== undefined && s.status !== 'running') {
    blocks.push({
      type: 'actions',
      block_id: `${BLOCK_ROOT_FOOTER}.actions`,
      elements: [rollbackButton(s, opts.rollbackTo)],
    });
  }
  const plainProgress = progressLine(s)
    .replace(/^[▰▱]+ /, '')
    .replace(/\*/g, '');
  return {
    text: fallback(`${escapeMrkdwn(title(s))}: ${statusLabel(s).toLowerCase()}, ${plainProgress}`),
    blocks,
  };
}

/** `Roll back to v1`, confirmed first; a rollout that did not succeed is rolled back on the targets it reached. */
export function rollbackButton(s: Pick<RolloutSummary, 'rolloutId' | 'deployable' | 'release' | 'status'>, to: string) {
  const where =
    s.status === 'succeeded'
      ? `every target of ${s.deployable}`
      : `only the targets that began receiving ${s.release}, the last one first`;
  return button({
    text: `Roll back to ${to}`,
    actionId: ACTION_ROLLBACK,
    value: encodeRolloutValue({ rolloutId: s.rolloutId, deployable: s.deployable, release: to }),
    confirm: {
      title: `Roll back to ${to}?`,
      text: `${keepHead(`${s.deployable} ${s.release}`, 120)} is replaced by ${keepHead(to, 60)} on ${where}, through the deployable's usual steps.`,
      confirm: 'Roll back',
      deny: 'Keep it',
    },
  });
}
