// `rollout bot`: loads the config, connects to Temporal, then runs the Bolt app, the Slack worker and the root
// updater until `signal` aborts. The CLI wires it; tests run it as its own OS process.
import type { Logger } from '@slack/bolt';
import { loadConfigFile, type Config } from '../config/load';
import type { Env } from '../env';
import { slackLogger } from '../observability/boltLogger';
import { processLogger, type Logger as ProcessLogger } from '../observability/logger';
import { installRuntime } from '../observability/runtime';
import { connectTemporal, type TemporalConnection } from '../temporal/connect';
import { temporalSettings } from '../temporal/settings';
import { createBot, type Bot } from './app';

export interface RunBotOptions {
  /** Config file; default env.ROLLOUT_CONFIG. */
  configPath?: string;
  /** Stops the bot (main wires SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Bolt's logger; default: `log` (or the process logger from LOG_LEVEL) through the Slack adapter. */
  logger?: Logger;
  /** The process's structured logger (default: JSON on stdout at LOG_LEVEL, service `bot`). */
  log?: ProcessLogger;
  /** Called once everything listens (port is the HTTP port; undefined in Socket Mode). */
  onReady?: (info: { port?: number; url?: string; taskQueue: string; slackTaskQueue: string }) => void;
  /** Default 15 s. */
  deliveryTimeoutMs?: number;
  /** Overrides the Temporal connection (tests). */
  connect?: (env: Env) => Promise<TemporalConnection>;
}

export class BotSetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot start the bot:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BotSetupError';
  }
}

/**
 * Runs the bot until `opts.signal` aborts; resolves when it has stopped. Throws BotSetupError when a required
 * setting is missing (SLACK_BOT_TOKEN; SLACK_SIGNING_SECRET in HTTP mode only, Socket Mode's socket is
 * authenticated by the app token; a config file), ConfigError for a bad config.
 */
export async function runBot(env: Env, opts: RunBotOptions = {}): Promise<void> {
  const problems: string[] = [];
  const configPath = opts.configPath ?? env.ROLLOUT_CONFIG;
  if (!env.SLACK_BOT_TOKEN) problems.push('SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)');
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN)
    problems.push(
      'SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret); or set SLACK_APP_TOKEN for Socket Mode',
    );
  if (!configPath) problems.push('no config file: pass --config or set ROLLOUT_CONFIG');
  if (problems.length > 0) throw new BotSetupError(problems);
  const config: Config = loadConfigFile(configPath!);
  const log = opts.log ?? processLogger(env, 'bot');
  // Before the Slack worker's connection: the Runtime (its logger) is created with the first one.
  installRuntime({ logger: log, sdkLevel: env.ROLLOUT_LOG_LEVEL });

  const { address, namespace, taskQueue } = temporalSettings(env, config.raw.temporal);
  const conn = opts.connect
    ? await opts.connect(env)
    : await connectTemporal(env, { ...(address ? { address } : {}), namespace });

  let bot: Bot | undefined;
  try {
    bot = createBot({
      config,
      client: conn.client,
      temporalAddress: conn.address,
      taskQueue,
      slack: {
        botToken: env.SLACK_BOT_TOKEN!,
        ...(env.SLACK_SIGNING_SECRET ? { signingSecret: env.SLACK_SIGNING_SECRET } : {}),
        ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
        ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
      },
      ...((env.ROLLOUT_TEMPORAL_UI_URL ?? conn.uiUrl)
        ? { temporalUiUrl: env.ROLLOUT_TEMPORAL_UI_URL ?? conn.uiUrl }
        : {}),
      logger: opts.logger ?? slackLogger(log),
      ...(opts.deliveryTimeoutMs !== undefined ? { deliveryTimeoutMs: opts.deliveryTimeoutMs } : {}),
      workerConnection: await conn.nativeConnection(),
    });
    if (opts.signal?.aborted) return;
    const port = env.PORT !== undefined ? Number(env.PORT) : 3000;
    const info = await bot.start(port);
    opts.onReady?.({ ...info, taskQueue, slackTaskQueue: bot.context.slackTaskQueue });
    await new Promise<void>((resolve) => {
      if (!opts.signal) return; // runs until the process ends
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await bot?.stop().catch(() => undefined);
    await conn.close();
  }
}
