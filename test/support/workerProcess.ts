// A rollout worker as its own OS process (for crash tests): `tsx test/support/workerProcess.ts`
// with TEMPORAL_TEST_ADDRESS, WORKER_TASK_QUEUE and WORKER_BUNDLE_PATH set. Prints "ready" when polling.
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createScriptWorker } from '../../src/temporal/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const address = process.env.TEMPORAL_TEST_ADDRESS ?? '';
const taskQueue = process.env.WORKER_TASK_QUEUE ?? '';
const bundlePath = process.env.WORKER_BUNDLE_PATH ?? '';
const connection = await NativeConnection.connect({ address });
const { worker, close } = await createScriptWorker({
  connection,
  namespace: 'default',
  taskQueue,
  workflowBundle: { code: readFileSync(bundlePath, 'utf8') },
});
const running = worker.run();
console.log('ready');
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => worker.shutdown());
await running;
await close();
await connection.close();
