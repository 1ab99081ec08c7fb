// Builds a Temporal worker for the rollout workflows and the activities built from injected dependencies.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { RunSettings } from '../../activities/scripts';
import { workerSecretSource } from '../../activities/secrets';
import { secretEnvironment } from '../env';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport, type SshTransportOptions } from '../../activities/transports/ssh';
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

/** After SIGTERM (worker.shutdown()), other activities (Slack posts, approver look-ups) get this long to finish. */
export const SHUTDOWN_GRACE = '10 seconds';
/** ...and the worker gives up waiting for them after this long (worker.run() then rejects). */
export const SHUTDOWN_FORCE = '30 seconds';

/**
 * Node flags the worker process runs with: the image's CMD and docker-compose.yml start `node <flags>
 * bin/rollout.mjs worker` (test/compose.test.ts checks both), and bench:scale's worker child runs with them too.
 *
 * `--max-semi-space-size=8` (MB; V8's young generation is two semi-spaces): left to itself V8 sizes it from the
 * heap limit (a quarter of the machine's memory), and both isolates of a worker (this thread and the workflow
 * thread) let it grow to the maximum under the workflow's allocation rate (the SDK records a source-mapped stack
 * trace for every promise a workflow creates). bench:scale at 1,000 targets: worker peak RSS 536-656 MB without
 * it, 332-507 MB with it (medians 614 / 372), no throughput cost seen (README, Performance). It must be given at
 * start-up: V8 sizes a heap when it creates it, and setting the flag later (v8.setFlagsFromString before
 * Worker.create) left the workflow thread so slow that its first 1,000-target workflow task failed the SDK's 5 s
 * deadlock check again and again.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/**
 * The worker process's environment on top of its own: `MALLOC_ARENA_MAX=2` caps glibc's malloc arenas (one per
 * thread by default, up to 8 per core, each keeping the memory it freed). The worker's native threads (the SDK's
 * Rust core, libuv's pool, the workflow thread) allocate and free megabytes of history per workflow task, and with
 * an arena each the freed memory stayed in the process: bench:scale at 1,000 targets, three rollouts one after the
 * other in one worker, peak RSS 370, 411, 457 MB without it (rising by ~45 MB a rollout while the V8 heap stayed
 * at 40-80 MB), 309, 313, 327 MB with it, at the same wall time (49-52 s a rollout). glibc reads it when the
 * process starts, so it is set where the worker is started (Dockerfile, docker-compose.yml; test/compose.test.ts
 * keeps them equal to this).
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * The worker. Its shutdown() HANDS BACK running scripts at once: they keep running on their targets, their
 * activities stop following them and fail retryably (type `worker-shutdown`, never a script failure), and the next
 * worker re-attaches; no shutdown grace is spent waiting for scripts.
 */
export async function createRolloutWorker(o: RolloutWorkerOptions): Promise<Worker> {
  const handBack = new AbortController();
  const outer = o.deps.shutdownSignal;
  if (outer?.aborted) handBack.abort();
  else outer?.addEventListener('abort', () => handBack.abort(), { once: true });
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities: createActivities({ ...o.deps, shutdownSignal: handBack.signal }),
    interceptors: { activity: [rolloutActivityLogging] },
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // Scripts run for minutes; many targets run at once. Activities mostly wait on the network.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: SHUTDOWN_GRACE,
    shutdownForceTime: SHUTDOWN_FORCE,
    ...o.tuning,
  });
  const shutdown = worker.shutdown.bind(worker);
  worker.shutdown = () => {
    handBack.abort();
    shutdown();
  };
  return worker;
}

export interface ScriptWorkerOptions extends Omit<RolloutWorkerOptions, 'deps'> {
  /** Lost-contact bound and retries of the script activity (see activities/scripts.ts). */
  runs?: RunSettings;
  /** SSH transport settings (keepalive, stale connection detection, run retention). */
  ssh?: SshTransportOptions;
}

/**
 * The worker every entry point runs (CLI `worker`, `dev`, the local stack): rollout workflows plus the script
 * activity over the SSH and local transports. close() releases the transports' connections.
 */
export async function createScriptWorker(o: ScriptWorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  const { runs, ssh: sshOptions, ...rest } = o;
  const ssh = new SshTransport({ env: secretEnvironment(), ...sshOptions });
  const local = new LocalTransport(
    sshOptions?.staleMs !== undefined || sshOptions?.runRetentionMs !== undefined
      ? {
          ...(sshOptions.staleMs !== undefined ? { staleMs: sshOptions.staleMs } : {}),
          ...(sshOptions.runRetentionMs !== undefined ? { runRetentionMs: sshOptions.runRetentionMs } : {}),
        }
      : {},
  );
  const close = async () => {
    await ssh.close().catch(() => undefined);
    await local.close().catch(() => undefined);
  };
  try {
    return {
      worker: await createRolloutWorker({
        ...rest,
        deps: {
          transports: { ssh, local },
          secretSource: workerSecretSource(secretEnvironment()),
          ...(runs ? { runs } : {}),
        },
      }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
