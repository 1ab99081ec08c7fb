// `rollout bot`: the Slack bot (Bolt; Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT) plus its Slack worker
// and the root-message updater. It keeps no state: everything is read from Temporal.
import { runBot } from '../../bot/main';
import { EXIT, err, out, type CliContext } from '../context';

export async function botCommand(ctx: CliContext, opts: { config?: string }): Promise<number> {
  try {
    await runBot(ctx.env, {
      ...(opts.config ? { configPath: opts.config } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onReady: (i) =>
        out(
          ctx,
          `rollout bot: ready (${i.url ?? 'socket mode'}; task queue ${i.taskQueue}, slack task queue ${i.slackTaskQueue})`,
        ),
    });
    return EXIT.OK;
  } catch (e) {
    // BotSetupError and ConfigError messages already list every problem.
    err(ctx, `rollout bot: ${(e as Error).message}`);
    return EXIT.USAGE;
  }
}
