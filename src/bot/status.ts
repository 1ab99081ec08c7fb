// Answers to "how is it going": `/rollout status [rollout | deployable]` (ephemeral) and `status` typed in a
// rollout's thread (answered in the thread). Everything comes from the rollouts' summary queries.
import type { App } from '@slack/bolt';
import { ownValue } from '../../domain/access';
import {
  BLOCK_STATUS_REPLY,
  ephemeral,
  nthBlockId,
  statusReply,
  type SlackMessage,
} from '../../activities/slack/blocks';
import { progressLine, STATUS_EMOJI, statusLabel, titleMrkdwn } from '../../activities/slack/blocks/summary';
import { fallback, name, packLines } from '../../activities/slack/blocks/text';
import type { RolloutSummary } from '../../workflows/messages';
import { getDeployableState, getSummary } from '../temporal/client';
import type { BotContext } from './context';
import { bounded, QUERY_TIMEOUT_MS, SCAN_QUERY_TIMEOUT_MS } from './queries';
import { listRunningRollouts } from './rollouts';

/** `/rollout status`: every running rollout (or the one), one rollout by id, or a deployable's latest. */
export async function statusAnswer(ctx: BotContext, target: string | undefined): Promise<SlackMessage> {
  const summaryOf = (id: string) =>
    bounded(ctx, QUERY_TIMEOUT_MS, () => getSummary(ctx.client, id)).catch(() => undefined);
  if (target === undefined) {
    // Bounded: one summary query per rollout, all at once, and the answer is one ephemeral message.
    const ids = await listRunningRollouts(ctx.client, 20, ctx.taskQueue);
    if (ids.length === 0) return ephemeral('No rollout is running.');
    const summaries = (await Promise.all(ids.map(summaryOf))).filter((s): s is RolloutSummary => s !== undefined);
    if (summaries.length === 1) return statusReply(summaries[0]!, ctx.now());
    const lines = summaries.map(
      (s) =>
        `${STATUS_EMOJI[s.status]} ${titleMrkdwn(s)} — ${statusLabel(s).toLowerCase()}, ${progressLine(s)} · \`${name(s.rolloutId, 200)}\``,
    );
    return {
      text: fallback(`${summaries.length} running rollouts`),
      blocks: packLines(lines, `${BLOCK_STATUS_REPLY}.list`, 5, (n) => `_+${n} more_`, nthBlockId),
    };
  }
  let id = target;
  if (ownValue(ctx.config.raw.deployables, target)) {
    const st = await bounded(ctx, QUERY_TIMEOUT_MS, () => getDeployableState(ctx.client, ctx.taskQueue, target)).catch(
      () => undefined,
    );
    const latest = st?.running?.rolloutId ?? st?.recent.at(-1)?.rolloutId;
    if (!latest) return ephemeral(`${target} has no rollout yet.`);
    id = latest;
  }
  const s = await summaryOf(id);
  return s ? statusReply(s, ctx.now()) : ephemeral(`No rollout \`${target}\` (or no worker to ask right now).`);
}

/**
 * The rollout whose root message starts the thread: from the root's metadata, or failing that from the running
 * rollouts' summaries.
 */
export async function rolloutOfThread(
  ctx: BotContext,
  web: App['client'],
  channel: string,
  threadTs: string,
): Promise<string | undefined> {
  try {
    const res = await web.conversations.replies({ channel, ts: threadTs, limit: 1, include_all_metadata: true });
    const root = res.messages?.[0];
    const id = (root?.metadata as { event_type?: string; event_payload?: { rollout_id?: unknown } } | undefined)
      ?.event_payload?.rollout_id;
    if (typeof id === 'string' && id.length > 0) return id;
  } catch (e) {
    ctx.logger.debug(`rollout bot: conversations.replies failed: ${(e as Error).message}`);
  }
  for (const id of await listRunningRollouts(ctx.client, 200, ctx.taskQueue)) {
    const s = await bounded(ctx, SCAN_QUERY_TIMEOUT_MS, () => getSummary(ctx.client, id)).catch(() => undefined);
    if (s?.slack?.channel === channel && s.slack.ts === threadTs) return id;
  }
  return undefined;
}

/** Posts the status of the thread's rollout in the thread; says nothing when it is not a rollout's thread. */
export async function answerStatusInThread(
  ctx: BotContext,
  web: App['client'],
  channel: string,
  threadTs: string,
): Promise<void> {
  const id = await rolloutOfThread(ctx, web, channel, threadTs);
  if (!id) return; // not a rollout's thread: stay quiet
  const s = await bounded(ctx, QUERY_TIMEOUT_MS, () => getSummary(ctx.client, id)).catch(() => undefined);
  const m = s ? statusReply(s, ctx.now()) : ephemeral(`Could not read ${id} right now (is a worker running?).`);
  await web.chat.postMessage({ channel, thread_ts: threadTs, text: m.text, blocks: m.blocks });
}
