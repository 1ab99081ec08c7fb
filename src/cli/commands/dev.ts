// `rollout dev` (what `npm start` runs). Without SLACK_BOT_TOKEN: the local stack — embedded Temporal with its
// UI, a worker, the demo web farm, the Slack stand-in, the real bot and the local console. With Slack tokens set:
// a worker and the real bot, against the configured (or embedded) Temporal.
import path from 'node:path';
import { runBot } from '../../bot/main';
import { processLogger, type Logger } from '../../observability/logger';
import { installRuntime } from '../../observability/runtime';
import { configFileOf, connectWith, EXIT, err, loadConfigOrReport, out, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';
import { createScriptWorker } from '../../temporal/worker';

export interface DevCommandOptions {
  config?: string;
}

const untilAborted = (signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

export async function devCommand(ctx: CliContext, opts: DevCommandOptions): Promise<number> {
  // One Runtime for the worker and the bot of this process, before either connects; no metrics endpoint here.
  const log = processLogger(ctx.env, 'dev', ctx.stdout);
  installRuntime({ logger: log, sdkLevel: ctx.env.ROLLOUT_LOG_LEVEL });
  if (ctx.env.SLACK_BOT_TOKEN) return withSlack(ctx, opts, log);
  try {
    const configFile = configFileOf(ctx, opts.config);
    // The dev harness (dev/) is loaded only here, so the product code never depends on it.
    const { startLocalStack } = await import('../../../dev/localStack');
    const stack = await startLocalStack({
      env: ctx.env,
      stateDir: path.resolve(ctx.env.ROLLOUT_STATE_DIR),
      ...(configFile ? { configPath: configFile } : {}),
      log: (line) => err(ctx, `rollout dev: ${line}`),
    });
    out(
      ctx,
      `rollout dev: demo farm: ${stack.farm.servers.map((s) => s.name).join(', ')} behind ${stack.farm.lb} at ${stack.farm.lbUrl} (${stack.farm.transport} transport)`,
    );
    if (stack.temporalUiUrl) out(ctx, `rollout dev: Temporal UI at ${stack.temporalUiUrl}`);
    out(ctx, `rollout dev: console ready at ${stack.consoleUrl}`);
    out(
      ctx,
      'rollout dev: type `/rollout web-farm v2` there (a release ending in -broken makes web3 fail its health check); Ctrl-C stops',
    );
    await untilAborted(ctx.signal);
    out(ctx, 'rollout dev: stopping');
    await stack.stop();
    return EXIT.OK;
  } catch (e) {
    err(ctx, `rollout dev: ${(e as Error).message}`);
    return EXIT.FAILED;
  }
}

/** With real Slack tokens: a worker plus the real bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT). */
async function withSlack(ctx: CliContext, opts: DevCommandOptions, log: Logger): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  if (!file) {
    err(ctx, 'rollout dev: with SLACK_BOT_TOKEN set, give your config with --config or ROLLOUT_CONFIG');
    return EXIT.USAGE;
  }
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.FAILED;
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings, true);
  const { worker, close } = await createScriptWorker({
    connection: await conn.nativeConnection(),
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
  });
  try {
    const running = worker.run();
    await runBot(
      { ...ctx.env, TEMPORAL_ADDRESS: conn.address },
      {
        configPath: file,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        log,
        onReady: (i) => out(ctx, `rollout dev: bot ready (${i.url ?? 'socket mode'}), worker on ${settings.taskQueue}`),
      },
    );
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    return EXIT.OK;
  } catch (e) {
    err(ctx, `rollout dev: ${(e as Error).message}`);
    return EXIT.FAILED;
  } finally {
    await close();
    await conn.close();
  }
}
