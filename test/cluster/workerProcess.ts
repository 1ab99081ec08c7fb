// A rollout worker as its own OS process for the cluster tests: `node --import tsx test/cluster/workerProcess.ts`
// with the standard Temporal variables (TEMPORAL_ADDRESS, TEMPORAL_TLS_*), ROLLOUT_TASK_QUEUE and
// WORKER_BUNDLE_PATH. It connects exactly as `rollout worker` does (loadEnv → temporalSettings → connectTemporal),
// with the test run's prebuilt workflow bundle. Prints "ready" when polling; SIGTERM shuts it down.
import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadEnv } from '../../src/env';
import { connectTemporal } from '../../src/temporal/connect';
import { temporalSettings } from '../../src/temporal/settings';
import { createScriptWorker } from '../../src/temporal/worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const env = loadEnv(process.env);
const settings = temporalSettings(env);
const conn = await connectTemporal(env, {
  namespace: settings.namespace,
  ...(settings.address ? { address: settings.address } : {}),
});
const { worker, close } = await createScriptWorker({
  connection: await conn.nativeConnection(),
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  workflowBundle: { code: readFileSync(process.env.WORKER_BUNDLE_PATH ?? '', 'utf8') },
  tuning: { shutdownGraceTime: '2 seconds' },
});
const running = worker.run();
console.log(`ready ${process.env.WORKER_NAME ?? ''} pid ${process.pid}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => worker.shutdown());
await running;
await close();
await conn.close();
