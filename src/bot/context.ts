// What every listener gets: the config, Temporal, the directory and the settings. No state of the bot's own.
import type { Logger } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/load';
import type { Directory } from './directory';

export interface BotContext {
  config: Config;
  client: Client;
  /** Where rollout (and deployable) workflows run. */
  taskQueue: string;
  /** Served by the bot's own worker: the Slack activities the rollout workflow calls. */
  slackTaskQueue: string;
  directory: Directory;
  /** How long a click's decision may take to be confirmed by the workflow before the clicker is told. */
  deliveryTimeoutMs: number;
  temporalUiUrl?: string;
  logger: Logger;
  now: () => Date;
}

/** The deployables `user` may start. */
export async function startableDeployables(ctx: BotContext, user: string): Promise<string[]> {
  const out: string[] = [];
  for (const [name, d] of Object.entries(ctx.config.raw.deployables)) {
    if (await ctx.directory.allows(user, d.starters, ctx.config.raw.groups).catch(() => false)) out.push(name);
  }
  return out;
}

/** Runs `work` without letting a failure escape (listeners already acked; errors are logged). */
export function background(ctx: BotContext, what: string, work: () => Promise<unknown>): void {
  void work().catch((e: unknown) =>
    ctx.logger.error(`rollout bot: ${what} failed: ${(e as Error)?.stack ?? String(e)}`),
  );
}
