// What the cluster test files share: the server globalSetup started (inject('cluster')), the standard Temporal
// client variables that reach it, a connection made the way production makes one (loadEnv → connectTemporal →
// @temporalio/envconfig), in-process and out-of-process workers, and a restart of the server process.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../activities';
import { loadEnv } from '../../src/env';
import { connectTemporal, type TemporalConnection } from '../../src/temporal/connect';
import { createRolloutWorker } from '../../src/temporal/worker';
import { uniqueName, workflowBundle } from '../support/temporal';
import { killServerProcess, startServerProcess, waitNamespace } from './server';

export { uniqueName };

/** The variables a deployment would set to reach this server: address, namespace, CA, client certificate. */
export function clusterEnvVars(o: { clientCert?: boolean } = {}): Record<string, string> {
  const c = inject('cluster');
  return {
    TEMPORAL_ADDRESS: c.address,
    TEMPORAL_NAMESPACE: c.namespace,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: c.certs.caCert,
    // The certificate's DNS name (it names 127.0.0.1 too; Node deprecates an IP address as the TLS server name).
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...(o.clientCert === false
      ? {}
      : { TEMPORAL_TLS_CLIENT_CERT_PATH: c.certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: c.certs.clientKey }),
  };
}

const quiet = new Writable({ write: (_c, _e, cb) => cb() });

/** connectTemporal with nothing but the standard variables (and whatever `extra` adds). */
export function clusterConnect(
  extra: Record<string, string> = {},
  o: { clientCert?: boolean; connectTimeoutMs?: number } = {},
): Promise<TemporalConnection> {
  return connectTemporal(loadEnv({ ...clusterEnvVars(o), ...extra }), {
    stderr: quiet,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
  });
}

export interface ClusterEnv {
  conn: TemporalConnection;
  taskQueue: string;
  startWorker(deps: ActivityDeps): Promise<{ worker: Worker; stop(): Promise<void> }>;
  close(): Promise<void>;
}

/** A connection and a unique task queue; workers run in this process on the connection's native connection. */
export async function clusterEnv(prefix: string): Promise<ClusterEnv> {
  const conn = await clusterConnect();
  const taskQueue = uniqueName(prefix);
  const stops: Array<() => Promise<void>> = [];
  return {
    conn,
    taskQueue,
    async startWorker(deps) {
      const worker = await createRolloutWorker({
        connection: await conn.nativeConnection(),
        namespace: conn.namespace,
        taskQueue,
        deps,
        workflowBundle: workflowBundle(),
      });
      const running = worker.run();
      const stop = async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      };
      stops.push(stop);
      return { worker, stop };
    },
    async close() {
      for (const s of stops) await s();
      await conn.close();
    },
  };
}

/** A rollout worker as its own OS process (test/cluster/workerProcess.ts), connected by the standard variables. */
export function spawnWorker(taskQueue: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/workerProcess.ts'], {
    env: {
      ...process.env,
      ...clusterEnvVars(),
      ROLLOUT_TASK_QUEUE: taskQueue,
      WORKER_BUNDLE_PATH: inject('workflowBundlePath'),
      WORKER_NAME: name,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code, signal) =>
      reject(new Error(`worker ${name} exited ${code ?? signal} before it was ready`)),
    );
  });
}

export async function killProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Kills the Temporal server process with SIGKILL; returns its pid. */
export async function killServer(): Promise<number> {
  const spec = inject('cluster');
  const pid = Number(readFileSync(spec.pidFile, 'utf8'));
  await killServerProcess(spec, 'SIGKILL');
  return pid;
}

/** Starts the Temporal server process again on the same PostgreSQL; waits until it serves; returns its pid. */
export async function startServerAgain(): Promise<number> {
  const spec = inject('cluster');
  const pid = await startServerProcess(spec);
  await waitNamespace(spec, spec.namespace);
  return pid;
}
