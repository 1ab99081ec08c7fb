// `rollout worker [--config f]`: runs the rollout workflows and their activities (SSH and local transports) on the
// task queue until the signal aborts (main wires SIGINT/SIGTERM), then shuts down gracefully.
import { createScriptWorker } from '../../temporal/worker';
import { configFileOf, connectWith, EXIT, err, loadConfigOrReport, out, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';

export interface WorkerCommandOptions {
  config?: string;
}

export async function workerCommand(ctx: CliContext, opts: WorkerCommandOptions): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  let section;
  if (file) {
    const config = loadConfigOrReport(ctx, file, { checkFiles: true });
    if (!config) return EXIT.FAILED;
    section = config.raw.temporal;
  }
  const settings = temporalSettings(ctx.env, section);
  if (ctx.signal?.aborted) return EXIT.OK;

  const conn = await connectWith(ctx, settings);
  const { worker, close } = await createScriptWorker({
    connection: await conn.nativeConnection(),
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    logLevel: ctx.env.ROLLOUT_LOG_LEVEL,
    ...(ctx.env.ROLLOUT_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: ctx.env.ROLLOUT_WORKFLOW_BUNDLE } } : {}),
  });
  try {
    let signals = 0;
    const onAbort = () => {
      signals++;
      if (worker.getState() === 'RUNNING') {
        err(
          ctx,
          'rollout: shutting down the worker (finishing in-flight tasks; rollouts continue on other workers or when one is back)',
        );
        worker.shutdown();
      }
    };
    if (ctx.signal?.aborted) return EXIT.OK;
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const running = worker.run();
    out(
      ctx,
      `worker ready on task queue ${settings.taskQueue} (temporal ${conn.address}${settings.namespace === 'default' ? '' : `, namespace ${settings.namespace}`})`,
    );
    try {
      await running;
    } finally {
      ctx.signal?.removeEventListener('abort', onAbort);
    }
    err(ctx, `rollout: worker stopped${signals ? '' : ' unexpectedly'}`);
    return EXIT.OK;
  } finally {
    await close();
    await conn.close();
  }
}
