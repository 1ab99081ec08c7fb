// A throw-away Temporal dev server and the product's own worker (createScriptWorker: rollout workflows plus the
// script activity over SSH and local transports), as every entry point runs it.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { createLogger } from '../../src/observability/logger';
import { installRuntime } from '../../src/observability/runtime';
import { createScriptWorker } from '../../src/temporal/worker';
import type { RolloutPlan } from '../../domain/plan';
import { startRollout } from '../../src/temporal/client';

export interface BenchTemporal {
  address: string;
  client: Client;
  taskQueue: string;
  /** Starts the rollout and waits for its result; seconds from the start call to the result. */
  run(plan: RolloutPlan): Promise<{ seconds: number; workflowId: string; status: string }>;
  /** Worker process RSS high-water mark seen by a 200 ms sampler (bytes). */
  peakRss(): number;
  stop(): Promise<void>;
}

let logging = false;

export async function startBenchTemporal(
  taskQueue: string,
  tuning: { maxConcurrentActivityTaskExecutions?: number } = {},
): Promise<BenchTemporal> {
  // Warnings and errors only: the benchmarks print figures on stdout.
  if (!logging) installRuntime({ logger: createLogger({ level: 'warn', service: 'bench-worker' }), sdkLevel: 'WARN' });
  logging = true;
  const server = await startScratchDevServer('bench-temporal-');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const { worker, close } = await createScriptWorker({ connection: native, namespace: 'default', taskQueue, tuning });
  const running = worker.run();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 200);
  sampler.unref();
  return {
    address: server.address,
    client,
    taskQueue,
    async run(plan) {
      const t0 = performance.now();
      const handle = await startRollout(client, taskQueue, plan);
      const result = await handle.result();
      return { seconds: (performance.now() - t0) / 1000, workflowId: handle.workflowId, status: result.status };
    },
    peakRss: () => Math.max(peak, process.memoryUsage.rss()),
    async stop() {
      clearInterval(sampler);
      worker.shutdown();
      await running.catch(() => undefined);
      await close();
      await native.close();
      await connection.close();
      await server.stop();
    },
  };
}
