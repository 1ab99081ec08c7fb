// Events API: messages in threads and mentions of the bot. Bolt acks events itself.
import type { App } from '@slack/bolt';
import type { BotContext } from '../../context';
import { appMentioned } from './appMentioned';
import { threadMessage } from './threadMessage';

export function registerEvents(app: App, ctx: BotContext): void {
  app.event('message', threadMessage(ctx));
  app.event('app_mention', appMentioned(ctx));
}
