// Slash commands: `/rollout` (the name comes from BotOptions.command).
import type { App } from '@slack/bolt';
import type { BotContext } from '../../context';
import { rolloutCommand } from './rolloutCommand';

export function registerCommands(app: App, ctx: BotContext, command = '/rollout'): void {
  app.command(command, rolloutCommand(ctx));
}
