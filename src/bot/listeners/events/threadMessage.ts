// `status` typed in a rollout's thread: answered in the thread from the rollout's summary query. Bots' own
// messages, edits and the like (any subtype) and messages outside threads are ignored.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../../context';
import { answerStatusInThread } from '../../status';

const STATUS = /^\s*(?:<@[A-Z0-9]+>\s*)?status\s*[.!?]?\s*$/i;

interface ThreadMessage {
  text?: string;
  thread_ts?: string;
  ts: string;
  channel: string;
  subtype?: string;
  bot_id?: string;
}

export type MessageArgs = Pick<SlackEventMiddlewareArgs<'message'>, 'event'> & Pick<AllMiddlewareArgs, 'client'>;

export function threadMessage(ctx: BotContext) {
  return async ({ event, client }: MessageArgs): Promise<void> => {
    const m = event as unknown as ThreadMessage;
    if (m.subtype !== undefined || m.bot_id !== undefined) return;
    if (!m.thread_ts || m.thread_ts === m.ts || !STATUS.test(m.text ?? '')) return;
    // A mention is answered by the app_mention listener.
    if (/<@[A-Z0-9]+>/.test(m.text ?? '')) return;
    await answerStatusInThread(ctx, client, m.channel, m.thread_ts);
  };
}
