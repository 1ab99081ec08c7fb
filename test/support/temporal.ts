// Per-test Temporal plumbing: a client and an in-process worker on a unique task queue, against the one dev
// server started by globalSetup, with the workflow bundle built once there.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../activities';
import { createRolloutWorker } from '../../src/temporal/worker';
import { getSummary } from '../../src/temporal/client';
import type { RolloutSummary } from '../../workflows/messages';

// Worker state changes at INFO drown test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

let bundleCode: string | undefined;
export function workflowBundle(): { code: string } {
  bundleCode ??= readFileSync(inject('workflowBundlePath'), 'utf8');
  return { code: bundleCode };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TemporalTestEnv {
  address: string;
  client: Client;
  taskQueue: string;
  startWorker(deps: ActivityDeps): Promise<RunningWorker>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

export async function temporalTestEnv(prefix = 'tq'): Promise<TemporalTestEnv> {
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = uniqueName(prefix);
  const workers: RunningWorker[] = [];
  return {
    address,
    client,
    taskQueue,
    async startWorker(deps) {
      const nativeConnection = await NativeConnection.connect({ address });
      const worker = await createRolloutWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        deps,
        workflowBundle: workflowBundle(),
      });
      const running = worker.run();
      let stopped: Promise<void> | undefined;
      const handle: RunningWorker = {
        worker,
        // Idempotent: a test may stop a worker itself (a restart) before close() stops every worker.
        stop() {
          stopped ??= (async () => {
            if (worker.getState() === 'RUNNING') worker.shutdown();
            await running.catch(() => undefined);
            await nativeConnection.close();
          })();
          return stopped;
        },
      };
      workers.push(handle);
      return handle;
    },
    async close() {
      for (const w of workers) await w.stop();
      await connection.close();
    },
  };
}

/** Polls the summary query until `pred` holds (never a blind sleep); fails with the last summary. */
export async function waitForSummary(
  client: Client,
  rolloutId: string,
  pred: (s: RolloutSummary) => boolean,
  timeoutMs = 60_000,
): Promise<RolloutSummary> {
  const deadline = Date.now() + timeoutMs;
  let last: RolloutSummary | undefined;
  for (;;) {
    try {
      last = await getSummary(client, rolloutId);
      if (pred(last)) return last;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not reached within ${timeoutMs} ms; last summary: ${JSON.stringify(last, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
