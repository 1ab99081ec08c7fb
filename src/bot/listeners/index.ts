// Every Bolt listener of the bot, by kind (the shape of slack-samples/bolt-ts-starter-template): each kind's
// index registers its callbacks, one named callback per file, each given the BotContext.
import type { App } from '@slack/bolt';
import type { BotContext } from '../context';
import { registerActions } from './actions';
import { registerCommands } from './commands';
import { registerEvents } from './events';

export function registerListeners(app: App, ctx: BotContext, opts: { command?: string } = {}): void {
  registerCommands(app, ctx, opts.command);
  registerActions(app, ctx);
  registerEvents(app, ctx);
}
