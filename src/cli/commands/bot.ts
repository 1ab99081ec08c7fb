// `rollout bot`: the Slack bot (Bolt; Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT) plus its Slack worker
// and the root-message updater. It keeps no state: everything is read from Temporal. It logs JSON lines on
// stdout (pino) and serves /healthz and /readyz on PORT in both modes.
import { runBot } from '../../bot/main';
import { processLogger } from '../../observability/logger';
import { EXIT, err, type CliContext } from '../context';

export async function botCommand(ctx: CliContext, opts: { config?: string }): Promise<number> {
  const log = processLogger(ctx.env, 'bot', ctx.stdout);
  try {
    await runBot(ctx.env, {
      ...(opts.config ? { configPath: opts.config } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      log,
      onReady: (i) =>
        log.info(
          { taskQueue: i.taskQueue, slackTaskQueue: i.slackTaskQueue, port: i.port ?? null },
          `rollout bot: ready (${i.url ?? 'socket mode'}; task queue ${i.taskQueue}, slack task queue ${i.slackTaskQueue})`,
        ),
    });
    log.info('rollout bot: stopped');
    return EXIT.OK;
  } catch (e) {
    // BotSetupError and ConfigError messages already list every problem.
    err(ctx, `rollout bot: ${(e as Error).message}`);
    return EXIT.USAGE;
  }
}
