// The bot mentioned in a rollout's thread: answered like `status`, in the thread.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../../context';
import { answerStatusInThread } from '../../status';

export type MentionArgs = Pick<SlackEventMiddlewareArgs<'app_mention'>, 'event'> & Pick<AllMiddlewareArgs, 'client'>;

export function appMentioned(ctx: BotContext) {
  return async ({ event, client }: MentionArgs): Promise<void> => {
    const threadTs = event.thread_ts;
    if (!threadTs) return;
    await answerStatusInThread(ctx, client, event.channel, threadTs);
  };
}
