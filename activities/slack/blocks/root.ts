// The one root message per rollout: posted when it starts, updated as the summary changes.
import type { RolloutSummary } from '../../../workflows/messages';
import {
  ACTION_CANCEL,
  ACTION_ROLLBACK,
  ACTION_PAUSE,
  ACTION_RESUME,
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
  type Button,
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
  /** Adds Pause (or Resume, while paused) to a rollout that can be steered, while it runs. Off by default. */
  showSteering?: boolean;
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
  const value = () => encodeRolloutValue({ rolloutId: s.rolloutId, deployable: s.deployable, release: s.release });
  const live = s.status === 'running' && !s.stopReason;
  const actions: Button[] = [];
  if (opts.showSteering && live && s.steerable) {
    actions.push(
      s.paused
        ? button({ text: 'Resume', actionId: ACTION_RESUME, value: value(), style: 'primary' })
        : button({ text: 'Pause', actionId: ACTION_PAUSE, value: value() }),
    );
  }
  if (opts.showCancel && live) {
    actions.push(
      button({
        text: 'Cancel rollout',
        actionId: ACTION_CANCEL,
        value: value(),
        style: 'danger',
        confirm: {
          title: 'Cancel the rollout?',
          text: `${keepHead(title(s), 120)}: no new targets or steps start; targets in flight finish what they are doing. Nothing already done is undone.`,
          confirm: 'Cancel rollout',
          deny: 'Keep going',
        },
      }),
    );
  }
  if (opts.rollbackTo !== undefined && s.status !== 'running') actions.push(rollbackButton(s, opts.rollbackTo));
  if (actions.length > 0) blocks.push({ type: 'actions', block_id: `${BLOCK_ROOT_FOOTER}.actions`, elements: actions });
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
