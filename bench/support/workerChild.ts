// The product's script worker (createScriptWorker) alone in its own OS process, so that bench:scale measures the
// worker's memory and nothing else (no bundler, bot, stand-in or benchmark bookkeeping). Started by
// startBenchTemporal({ workerProcess: true }) with BENCH_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE (a workflow bundle
// built by the parent) and BENCH_TUNING (JSON); prints "ready" once polling; SIGTERM shuts it down.
import { appendFileSync, readFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../../src/observability/logger';
import { installRuntime } from '../../src/observability/runtime';
import { createScriptWorker } from '../../src/temporal/worker';

installRuntime({ logger: createLogger({ level: 'warn', service: 'bench-worker' }), sdkLevel: 'WARN' });
const connection = await NativeConnection.connect({ address: process.env.BENCH_ADDRESS ?? '' });
const { worker, close } = await createScriptWorker({
  connection,
  namespace: 'default',
  taskQueue: process.env.BENCH_TASK_QUEUE ?? '',
  workflowBundle: { code: readFileSync(process.env.BENCH_BUNDLE ?? '', 'utf8') },
  tuning: JSON.parse(process.env.BENCH_TUNING ?? '{}') as { maxConcurrentActivityTaskExecutions?: number },
});
const running = worker.run();
console.log('ready');
// BENCH_MEMLOG=<file>: the worker's memory every 2 s (RSS, this thread's V8 heap, external), one JSON line each.
if (process.env.BENCH_MEMLOG) {
  const file = process.env.BENCH_MEMLOG;
  const t0 = Date.now();
  setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    const line = {
      s: Math.round((Date.now() - t0) / 1000),
      rss: mb(m.rss),
      heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
    };
    appendFileSync(file, JSON.stringify(line) + '\n');
  }, 2000).unref();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
}
await running;
await close();
await connection.close();
