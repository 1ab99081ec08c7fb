// `rollout worker [--config f]`: runs the rollout workflows and their activities (SSH and local transports) on the
// task queue until the signal aborts (main wires SIGINT/SIGTERM), then shuts down gracefully. It logs JSON lines
// on stdout (pino), serves Prometheus metrics on ROLLOUT_METRICS_PORT and /healthz, /readyz on ROLLOUT_HEALTH_PORT.
import { processLogger } from '../../observability/logger';
import { serveHealth, temporalCheck, type HealthServer } from '../../observability/health';
import { installRuntime } from '../../observability/runtime';
import { GracefulShutdownPeriodExpiredError } from '@temporalio/worker';
import { createScriptWorker } from '../../temporal/worker';
import { configFileOf, connectWith, EXIT, err, loadConfigOrReport, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';

export interface WorkerCommandOptions {
  config?: string;
}

export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_HEALTH_PORT = 9090;

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

  const log = processLogger(ctx.env, 'worker', ctx.stdout);
  const metricsPort = ctx.env.ROLLOUT_METRICS_PORT ?? DEFAULT_METRICS_PORT;
  const healthPort = ctx.env.ROLLOUT_HEALTH_PORT ?? DEFAULT_HEALTH_PORT;
  try {
    // Before the first connection: the Runtime is created with it, and its options cannot change afterwards.
    installRuntime({
      logger: log,
      sdkLevel: ctx.env.ROLLOUT_LOG_LEVEL,
      ...(metricsPort !== 'off' ? { metricsBindAddress: `0.0.0.0:${metricsPort}` } : {}),
    });
  } catch (e) {
    err(ctx, `rollout worker: ${(e as Error).message} (set ROLLOUT_METRICS_PORT to another port, or off)`);
    return EXIT.FAILED;
  }

  const conn = await connectWith(ctx, settings);
  let health: HealthServer | undefined;
  let close: (() => Promise<void>) | undefined;
  try {
    const connection = await conn.nativeConnection();
    const created = await createScriptWorker({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      ...(ctx.env.ROLLOUT_LOST_CONTACT_BOUND_SEC !== undefined
        ? { runs: { lostContactBoundMs: ctx.env.ROLLOUT_LOST_CONTACT_BOUND_SEC * 1000 } }
        : {}),
      ...(ctx.env.ROLLOUT_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: ctx.env.ROLLOUT_WORKFLOW_BUNDLE } } : {}),
    });
    const { worker } = created;
    close = created.close;
    if (healthPort !== 'off') {
      health = await serveHealth({
        port: healthPort,
        checks: {
          temporal: temporalCheck(connection, conn.address),
          worker: () => ({ ok: worker.getState() === 'RUNNING', detail: worker.getState() }),
        },
      }).catch((e: Error) => {
        throw new Error(`${e.message} (set ROLLOUT_HEALTH_PORT to another port, or off)`);
      });
    }
    let signals = 0;
    const onAbort = () => {
      signals++;
      if (worker.getState() === 'RUNNING') {
        log.info(
          'rollout: shutting down the worker: running scripts are handed back (they keep running on their targets and the next worker re-attaches); other in-flight tasks get a short grace',
        );
        worker.shutdown();
      }
    };
    if (ctx.signal?.aborted) return EXIT.OK;
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const running = worker.run();
    log.info(
      {
        taskQueue: settings.taskQueue,
        namespace: settings.namespace,
        temporal: conn.address,
        metricsPort: metricsPort === 'off' ? null : metricsPort,
        healthPort: health?.port ?? null,
      },
      `worker ready on task queue ${settings.taskQueue} (temporal ${conn.address}${settings.namespace === 'default' ? '' : `, namespace ${settings.namespace}`})`,
    );
    try {
      await running;
    } catch (e) {
      // shutdownForceTime passed with some task still in flight: it is retried on another worker.
      if (!(e instanceof GracefulShutdownPeriodExpiredError)) throw e;
      log.warn(`rollout: ${e.message}; the tasks still in flight are retried by the next worker`);
    } finally {
      ctx.signal?.removeEventListener('abort', onAbort);
    }
    log[signals ? 'info' : 'error'](`rollout: worker stopped${signals ? '' : ' unexpectedly'}`);
    return EXIT.OK;
  } catch (e) {
    err(ctx, `rollout worker: ${(e as Error).message}`);
    return EXIT.FAILED;
  } finally {
    await health?.close();
    await close?.();
    await conn.close();
  }
}
