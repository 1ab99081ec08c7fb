// A rollout worker as its own OS process (for crash tests): `tsx test/support/workerProcess.ts`
// with TEMPORAL_TEST_ADDRESS, WORKER_TASK_QUEUE and WORKER_BUNDLE_PATH set. Prints "ready" when polling.
// Optional: WORKER_RUNS (JSON RunSettings of the script activity), WORKER_SSH (JSON SshTransportOptions),
// WORKER_SHUTDOWN_GRACE_MS (the worker's shutdown grace). SIGTERM/SIGINT shut it down (running scripts are handed
// back) and it exits 0.
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createScriptWorker } from '../../src/temporal/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const address = process.env.TEMPORAL_TEST_ADDRESS ?? '';
const taskQueue = process.env.WORKER_TASK_QUEUE ?? '';
const bundlePath = process.env.WORKER_BUNDLE_PATH ?? '';
const json = (name: string): Record<string, unknown> | undefined =>
  process.env[name] ? (JSON.parse(process.env[name] ?? '{}') as Record<string, unknown>) : undefined;
const grace = process.env.WORKER_SHUTDOWN_GRACE_MS;
const connection = await NativeConnection.connect({ address });
const { worker, close } = await createScriptWorker({
  connection,
  namespace: 'default',
  taskQueue,
  workflowBundle: { code: readFileSync(bundlePath, 'utf8') },
  ...(json('WORKER_RUNS') ? { runs: json('WORKER_RUNS') } : {}),
  ...(json('WORKER_SSH') ? { ssh: json('WORKER_SSH') } : {}),
  ...(grace ? { tuning: { shutdownGraceTime: Number(grace) } } : {}),
});
const running = worker.run();
console.log('ready');
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => worker.shutdown());
await running;
await close();
await connection.close();
