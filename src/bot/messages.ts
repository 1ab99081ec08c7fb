// Bot-side Block Kit messages (the workflow's own ones live in activities/slack/blocks): the root message
// before a rollout runs (requested, queued, withdrawn, not started), the queued and cancel prompts, `list`.
import {
  ACTION_CANCEL,
  ACTION_WITHDRAW,
  BLOCK_EPHEMERAL,
  BLOCK_ROOT_FOOTER,
  BLOCK_ROOT_HEADER,
  BLOCK_ROOT_STATUS,
  encodeRolloutValue,
  ephemeral,
  help,
  lockNotice,
  nthBlockId,
  type Block,
  type SlackMessage,
} from '../../activities/slack/blocks';
import {
  button,
  keepHead,
  contextBlock,
  fallback,
  LIMITS,
  mrkdwnSection,
  name,
  packLines,
  who,
} from '../../activities/slack/blocks/text';
import type { DeployableState } from '../../workflows/queueMessages';

export interface PendingRoot {
  rolloutId: string;
  deployable: string;
  release: string;
  requestedBy: string;
}

function pendingRoot(p: PendingRoot, status: string, detail?: string): SlackMessage {
  const title = `${p.deployable} ${p.release}`;
  return {
    text: fallback(`${name(title, 200)}: ${status}`),
    blocks: [
      {
        type: 'header',
        block_id: BLOCK_ROOT_HEADER,
        text: { type: 'plain_text', text: keepHead(`Rollout ${title}`, LIMITS.headerText) },
      },
      mrkdwnSection(
        [`*Status:* ${status}`, `*Requested by:* ${who(p.requestedBy)}`, ...(detail ? [detail] : [])].join('\n'),
        BLOCK_ROOT_STATUS,
      ),
      contextBlock([`Rollout \`${name(p.rolloutId, 200)}\``], BLOCK_ROOT_FOOTER),
    ],
  };
}

/** The root message as first posted, before the rollout is in its deployable's queue. */
export const requestedRoot = (p: PendingRoot) => pendingRoot(p, ':hourglass_flowing_sand: starting…');
export const queuedRoot = (p: PendingRoot, position: number, runningId?: string) =>
  pendingRoot(
    p,
    `:double_vertical_bar: queued (position ${position})`,
    runningId
      ? `Waiting for \`${name(runningId, 200)}\` to finish; starts by itself when ${name(p.deployable, 80)} is free.`
      : undefined,
  );
export const withdrawnRoot = (p: PendingRoot, by: string) =>
  pendingRoot(p, `:leftwards_arrow_with_hook: withdrawn by ${who(by)}; never started`);
export const notStartedRoot = (p: PendingRoot, reason: string) =>
  pendingRoot(p, `:warning: not started: ${name(reason, 1000)}`);

/** Ephemeral text followed by the help (an error and what the user may do instead). */
export function errorWithHelp(error: string, deployables: readonly string[]): SlackMessage {
  const e = ephemeral(`:warning: ${error}`);
  const h = help(deployables);
  return { text: e.text, blocks: [...e.blocks.slice(0, 3), ...h.blocks] };
}

/** Told to the requester when their rollout waits behind another: the position and a Withdraw button. */
export function queuedNotice(p: PendingRoot, position: number, runningId?: string): SlackMessage {
  const behind = runningId ? ` behind \`${name(runningId, 200)}\`` : '';
  return {
    text: fallback(`${name(p.deployable, 80)} ${name(p.release, 130)} is queued at position ${position}`),
    blocks: [
      mrkdwnSection(
        `:double_vertical_bar: *${name(p.deployable, 80)} ${name(p.release, 130)}* is queued at position *${position}*${behind}. It starts by itself when the deployable is free.`,
        BLOCK_EPHEMERAL,
      ),
      {
        type: 'actions',
        block_id: `${BLOCK_EPHEMERAL}.actions`,
        elements: [
          button({
            text: 'Withdraw',
            actionId: ACTION_WITHDRAW,
            value: encodeRolloutValue({ rolloutId: p.rolloutId, deployable: p.deployable, release: p.release }),
          }),
        ],
      },
    ],
  };
}

/** `/rollout cancel <id>`: a Cancel button behind a confirmation dialog. */
export function cancelPrompt(r: { rolloutId: string; deployable: string; release: string }): SlackMessage {
  const { rolloutId } = r;
  const title = `${r.deployable} ${r.release}`;
  return {
    text: fallback(`Cancel ${name(title, 200)}?`),
    blocks: [
      mrkdwnSection(`Cancel *${name(title, 200)}* (\`${name(rolloutId, 200)}\`)?`, BLOCK_EPHEMERAL),
      {
        type: 'actions',
        block_id: `${BLOCK_EPHEMERAL}.actions`,
        elements: [
          button({
            text: 'Cancel rollout',
            actionId: ACTION_CANCEL,
            value: encodeRolloutValue({ rolloutId, deployable: r.deployable, release: r.release }),
            style: 'danger',
            confirm: {
              title: 'Cancel the rollout?',
              text: `${keepHead(title, 120)}: no new targets or steps start; targets in flight finish what they are doing. Nothing already done is undone.`,
              confirm: 'Cancel rollout',
              deny: 'Keep going',
            },
          }),
        ],
      },
    ],
  };
}

/** `/rollout list`: running and queued rollouts per deployable. */
export function listMessage(states: DeployableState[]): SlackMessage {
  const lines: string[] = [];
  for (const s of states) {
    if (s.lock) lines.push(lockNotice(s.deployable, s.lock));
    if (!s.running && s.queued.length === 0) continue;
    const head = `*${name(s.deployable, 80)}*`;
    const run = s.running
      ? `:arrow_forward: \`${name(s.running.rolloutId, 200)}\` ${name(s.running.release, 130)} by ${who(s.running.requestedBy)}`
      : 'nothing running';
    const queued = s.queued.map(
      (q, i) => `  ${i + 1}. \`${name(q.rolloutId, 200)}\` ${name(q.release, 130)} by ${who(q.requestedBy)}`,
    );
    lines.push(`${head}: ${run}`, ...queued);
  }
  if (lines.length === 0) return ephemeral('No rollout is running or queued, and no deployable is locked.');
  const blocks: Block[] = packLines(lines, `${BLOCK_EPHEMERAL}.list`, 10, (n) => `_+${n} more_`, nthBlockId);
  return { text: fallback(`${lines.length} lines of running and queued rollouts`), blocks };
}
