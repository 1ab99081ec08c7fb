// `rollout worker [--config f]`: runs the rollout workflows and their activities (SSH and local transports) on the
// task queue until the signal aborts (main wires SIGINT/SIGTERM), then shuts down gracefully.
import { GracefulShutdownPeriodExpiredError } from '@temporalio/worker';
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
    const config = loadConfigOrReport(ctx, file);
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
    ...(ctx.env.ROLLOUT_LOST_CONTACT_BOUND_SEC !== undefined
      ? { runs: { lostContactBoundMs: ctx.env.ROLLOUT_LOST_CONTACT_BOUND_SEC * 1000 } }
      : {}),
  });
  try {
    let signals = 0;
    const onAbort = () => {
      signals++;
      if (worker.getState() === 'RUNNING') {
        err(
          ctx,
          'rollout: shutting down the worker: running scripts are handed back (they keep running on their targets and the next worker re-attaches); other in-flight tasks get a short grace',
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
    } catch (e) {
      // shutdownForceTime passed with some task still in flight: it is retried on another worker.
      if (!(e instanceof GracefulShutdownPeriodExpiredError)) throw e;
      err(ctx, `rollout: ${e.message}; the tasks still in flight are retried by the next worker`);
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
