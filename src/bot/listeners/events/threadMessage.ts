// `status` typed in a rollout's thread: answered in the thread from the rollout's summary query; `pause [reason]`,
// `resume` and `window <n>` steer the thread's rollout (the workflow tells the thread; refusals are answered to
// the writer alone). Bots' own messages, edits and the like (any subtype) and messages outside threads are ignored.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { Respond } from '../../replies';
import type { BotContext } from '../../context';
import { answerStatusInThread, rolloutOfThread } from '../../status';
import { steerFromSlack, type SteerRequest } from '../../steering';

const STATUS = /^\s*(?:<@[A-Z0-9]+>\s*)?status\s*[.!?]?\s*$/i;
const STEER = /^\s*(?:(pause)(?:\s+(.{1,500}?))?|(resume)|window\s+([1-9]\d{0,4}))\s*[.!]?\s*$/i;

/** The steering a thread message asks for, if it is one. */
export function steerRequestOf(text: string): SteerRequest | undefined {
  const m = STEER.exec(text);
  if (!m) return undefined;
  if (m[1]) return { kind: 'pause', ...(m[2] ? { reason: m[2] } : {}) };
  if (m[3]) return { kind: 'resume' };
  return { kind: 'window', window: Number(m[4]) };
}

interface ThreadMessage {
  text?: string;
  thread_ts?: string;
  ts: string;
  channel: string;
  subtype?: string;
  bot_id?: string;
  user?: string;
}

export type MessageArgs = Pick<SlackEventMiddlewareArgs<'message'>, 'event'> & Pick<AllMiddlewareArgs, 'client'>;

export function threadMessage(ctx: BotContext) {
  return async ({ event, client }: MessageArgs): Promise<void> => {
    const m = event as unknown as ThreadMessage;
    if (m.subtype !== undefined || m.bot_id !== undefined) return;
    if (!m.thread_ts || m.thread_ts === m.ts) return;
    const steer = steerRequestOf(m.text ?? '');
    if (steer && m.user) {
      const threadTs = m.thread_ts;
      const rolloutId = await rolloutOfThread(ctx, client, m.channel, threadTs);
      if (!rolloutId) return; // not a rollout's thread: stay quiet
      // Events have no response URL: the writer hears back privately, in the thread.
      const user = m.user;
      const respond: Respond = (msg) => {
        const { text, blocks } = msg as { text?: string; blocks?: never[] };
        return client.chat.postEphemeral({
          channel: m.channel,
          user,
          thread_ts: threadTs,
          text: text ?? ' ',
          ...(blocks ? { blocks } : {}),
        });
      };
      await steerFromSlack(ctx, respond, m.user, rolloutId, steer);
      return;
    }
    if (!STATUS.test(m.text ?? '')) return;
    // A mention is answered by the app_mention listener.
    if (/<@[A-Z0-9]+>/.test(m.text ?? '')) return;
    await answerStatusInThread(ctx, client, m.channel, m.thread_ts);
  };
}
