// `status` typed in a rollout's thread (or the bot mentioned there): answered in the thread from the query.
// The rollout is found from the root message's metadata, or failing that from the running rollouts' summaries.
import type { App } from '@slack/bolt';
import { ephemeral, statusReply } from '../../../activities/slack/blocks';
import { getSummary } from '../../temporal/client';
import type { BotContext } from '../context';
import { listRunningRollouts } from '../rollouts';
import { bounded } from './command';

const STATUS = /^\s*(?:<@[A-Z0-9]+>\s*)?status\s*[.!?]?\s*$/i;

async function rolloutOfThread(ctx: BotContext, web: App['client'], channel: string, threadTs: string): Promise<string | undefined> {
  try {
    const res = await web.conversations.replies({ channel, ts: threadTs, limit: 1, include_all_metadata: true });
    const root = res.messages?.[0];
    const id = (root?.metadata as { event_type?: string; event_payload?: { rollout_id?: unknown } } | undefined)?.event_payload?.rollout_id;
    if (typeof id === 'string' && id.length > 0) return id;
  } catch (e) {
    ctx.logger.debug(`rollout bot: conversations.replies failed: ${(e as Error).message}`);
  }
  for (const id of await listRunningRollouts(ctx.client, 200, ctx.taskQueue)) {
    const s = await bounded(ctx, 3000, () => getSummary(ctx.client, id)).catch(() => undefined);
    if (s?.slack?.channel === channel && s.slack.ts === threadTs) return id;
  }
  return undefined;
}

async function answerStatus(ctx: BotContext, web: App['client'], channel: string, threadTs: string): Promise<void> {
  const id = await rolloutOfThread(ctx, web, channel, threadTs);
  if (!id) return; // not a rollout's thread: stay quiet
  const s = await bounded(ctx, 5000, () => getSummary(ctx.client, id)).catch(() => undefined);
  const m = s ? statusReply(s, ctx.now()) : ephemeral(`Could not read ${id} right now (is a worker running?).`);
  await web.chat.postMessage({ channel, thread_ts: threadTs, text: m.text, blocks: m.blocks });
}

interface ThreadMessage {
  text?: string;
  thread_ts?: string;
  ts: string;
  channel: string;
  subtype?: string;
  bot_id?: string;
}

export function registerEvents(app: App, ctx: BotContext): void {
  app.event('message', async ({ event, client }) => {
    const m = event as unknown as ThreadMessage;
    if (m.subtype !== undefined || m.bot_id !== undefined) return;
    if (!m.thread_ts || m.thread_ts === m.ts || !STATUS.test(m.text ?? '')) return;
    // A mention is answered by the app_mention listener.
    if (/<@[A-Z0-9]+>/.test(m.text ?? '')) return;
    await answerStatus(ctx, client, m.channel, m.thread_ts);
  });

  app.event('app_mention', async ({ event, client }) => {
    const threadTs = event.thread_ts;
    if (!threadTs) return;
    await answerStatus(ctx, client, event.channel, threadTs);
  });
}
