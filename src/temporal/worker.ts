// Builds a Temporal worker for the rollout workflows and the activities built from injected dependencies.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { rolloutActivityLogging } from '../observability/activityLog';
import { createLogger } from '../observability/logger';
import { installRuntime } from '../observability/runtime';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface RolloutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests bundle once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: { code: string } | { codePath: string };
  /** Passed through for tuning (e.g. max concurrent activities). */
  tuning?: Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxCachedWorkflows'
    | 'shutdownGraceTime'
    | 'shutdownForceTime'
  >;
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * A Runtime for callers with no logger of their own (benchmarks): JSON logs at info, the SDK's own messages from
 * `level` up (they log every state change at INFO). Call it before the first connection: the first install wins
 * (entry points use installRuntime with the process's logger and, on `rollout worker`, metrics).
 */
export function installRuntimeLogging(level: LogLevel): void {
  installRuntime({ logger: createLogger({ level: 'info', service: 'worker' }), sdkLevel: level });
}

export async function createRolloutWorker(o: RolloutWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities: createActivities(o.deps),
    interceptors: { activity: [rolloutActivityLogging] },
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // Scripts run for minutes; many targets run at once. Activities mostly wait on the network.
    maxConcurrentActivityTaskExecutions: 200,
    // On SIGTERM, scripts already running get this long to finish before they are cancelled (and killed on the
    // target); a cancelled script's activity is retried elsewhere, where the target lock keeps runs apart.
    shutdownGraceTime: '60 seconds',
    ...o.tuning,
  });
}

/**
 * The worker every entry point runs (CLI `worker`, `dev`, the local stack): rollout workflows plus the script
 * activity over the SSH and local transports. close() releases the transports' connections.
 */
export async function createScriptWorker(
  o: Omit<RolloutWorkerOptions, 'deps'>,
): Promise<{ worker: Worker; close(): Promise<void> }> {
  const ssh = new SshTransport();
  const local = new LocalTransport();
  const close = async () => {
    await ssh.close().catch(() => undefined);
    await local.close().catch(() => undefined);
  };
  try {
    return { worker: await createRolloutWorker({ ...o, deps: { transports: { ssh, local } } }), close };
  } catch (e) {
    await close();
    throw e;
  }
}
