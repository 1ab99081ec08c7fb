// `rollout dev` (what `npm start` runs): an embedded Temporal dev server with its web UI, a worker, and a first
// rollout of the quickstart config, so a fresh clone shows the engine working with nothing else installed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalTransport } from '../../../activities/transports/local';
import { SshTransport } from '../../../activities/transports/ssh';
import { buildPlan } from '../../config/plan';
import { enqueueRollout, waitUntilStarted, rolloutHandle } from '../../temporal/client';
import { createRolloutWorker } from '../../temporal/worker';
import { connectWith, EXIT, err, loadConfigOrReport, out, temporalSettings, type CliContext } from '../context';

export const QUICKSTART_CONFIG = fileURLToPath(new URL('../../../examples/quickstart/rollout.yaml', import.meta.url));

export interface DevCommandOptions {
  config?: string;
  /** Start a first rollout of this deployable/release (default web-farm v1; "" for none). */
  demo?: string;
}

export async function devCommand(ctx: CliContext, opts: DevCommandOptions): Promise<number> {
  const file = opts.config ?? ctx.env.ROLLOUT_CONFIG ?? QUICKSTART_CONFIG;
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.FAILED;
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings, true);
  const ssh = new SshTransport();
  const local = new LocalTransport();
  try {
    const worker = await createRolloutWorker({
      connection: await conn.nativeConnection(),
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      deps: { transports: { ssh, local } },
      logLevel: ctx.env.ROLLOUT_LOG_LEVEL,
    });
    const onAbort = () => worker.getState() === 'RUNNING' && worker.shutdown();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const running = worker.run();
    out(ctx, `rollout dev: worker ready (config ${path.relative(process.cwd(), file) || file}, temporal ${conn.address})`);
    if (conn.uiUrl) out(ctx, `rollout dev: Temporal UI at ${conn.uiUrl}`);
    const [deployable, release] = (opts.demo ?? 'web-farm v1').split(/\s+/);
    if (deployable && release && config.raw.deployables[deployable]) {
      const plan = buildPlan(config, { deployable, release, requestedBy: 'cli:dev' });
      const { rolloutId } = await enqueueRollout(conn.client, settings.taskQueue, plan);
      out(ctx, `rollout dev: started ${deployable} ${release} as ${rolloutId}`);
      await waitUntilStarted(conn.client, rolloutId, 300, ctx.signal);
      const result = await rolloutHandle(conn.client, rolloutId).result();
      const counts = result.summary.steps.map((s) => `${s.name}: ${s.counts.succeeded} succeeded`).join(', ');
      out(ctx, `rollout dev: ${deployable} ${release} ${result.status} (${counts})`);
    }
    out(ctx, 'rollout dev: try `npx rollout start web-farm v2 --wait -c examples/quickstart/rollout.yaml` in another shell; Ctrl-C stops');
    await running;
    ctx.signal?.removeEventListener('abort', onAbort);
    return EXIT.OK;
  } catch (e) {
    err(ctx, `rollout dev: ${(e as Error).message}`);
    return EXIT.FAILED;
  } finally {
    await ssh.close();
    await local.close();
    await conn.close();
  }
}
