// A throw-away Temporal dev server and the product's own worker (createScriptWorker: rollout workflows plus the
// script activity over SSH and local transports), as every entry point runs it: in this process, or with
// `workerProcess` alone in a child process (workerChild.ts), whose peak RSS is then the worker's own.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { createLogger } from '../../src/observability/logger';
import { installRuntime } from '../../src/observability/runtime';
import { createScriptWorker, WORKER_ENV, WORKER_NODE_FLAGS, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutPlan } from '../../domain/plan';
import { startRollout } from '../../src/temporal/client';

export interface BenchTemporal {
  address: string;
  /** The dev server's process (for bench/support/cpu.ts). */
  serverPid: number;
  client: Client;
  taskQueue: string;
  /** Starts the rollout and waits for its result; seconds from the start call to the result. */
  run(plan: RolloutPlan): Promise<{ seconds: number; workflowId: string; status: string }>;
  /**
   * Peak RSS in bytes. In-process: this process's RSS high-water mark seen by a 200 ms sampler (worker, bundler,
   * bot and stand-in together). With `workerProcess`: the worker child's VmHWM from /proc (the kernel's own
   * high-water mark of that process, which holds only the worker).
   */
  peakRss(): number;
  /** Which process peakRss() measures. */
  rssOf: 'benchmark process' | 'worker process';
  stop(): Promise<void>;
}

let logging = false;

export async function startBenchTemporal(
  taskQueue: string,
  tuning: { maxConcurrentActivityTaskExecutions?: number } = {},
  options: { workerProcess?: boolean } = {},
): Promise<BenchTemporal> {
  // Warnings and errors only: the benchmarks print figures on stdout.
  if (!logging) installRuntime({ logger: createLogger({ level: 'warn', service: 'bench-worker' }), sdkLevel: 'WARN' });
  logging = true;
  const server = await startScratchDevServer('bench-temporal-');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  if (options.workerProcess) {
    const child = await startWorkerChild(server.address, taskQueue, tuning);
    return {
      address: server.address,
      serverPid: server.pid,
      client,
      taskQueue,
      run: (plan) => runRollout(client, taskQueue, plan),
      peakRss: child.peakRss,
      rssOf: 'worker process',
      async stop() {
        await child.stop();
        await connection.close();
        await server.stop();
      },
    };
  }
  const native = await NativeConnection.connect({ address: server.address });
  const { worker, close } = await createScriptWorker({ connection: native, namespace: 'default', taskQueue, tuning });
  const running = worker.run();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 200);
  sampler.unref();
  return {
    address: server.address,
    serverPid: server.pid,
    client,
    taskQueue,
    run: (plan) => runRollout(client, taskQueue, plan),
    peakRss: () => Math.max(peak, process.memoryUsage.rss()),
    rssOf: 'benchmark process',
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

async function runRollout(client: Client, taskQueue: string, plan: RolloutPlan) {
  const t0 = performance.now();
  const handle = await startRollout(client, taskQueue, plan);
  const result = await handle.result();
  return { seconds: (performance.now() - t0) / 1000, workflowId: handle.workflowId, status: result.status };
}

/** VmHWM of a live process, in bytes (undefined once it is gone). */
function vmHwm(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How the worker child runs: compiled to JavaScript, as the production worker runs (the image and `rollout worker`
 * run the esbuild bundle of scripts/build-cli.mjs, never tsx), so that its memory and CPU are the product's. Under
 * tsx (`BENCH_WORKER_TSX=1`, or when esbuild is not installed) every thread of the worker, the workflow thread
 * too, loads tsx and has source maps on: more memory, and a source-map lookup in each of the SDK's per-promise
 * stack traces. The bundle goes under node_modules/.cache so that its packages resolve from the checkout.
 */
async function workerChildScript(): Promise<{ nodeArgs: string[] }> {
  const source = fileURLToPath(new URL('./workerChild.ts', import.meta.url));
  if (process.env.BENCH_WORKER_TSX === '1') return { nodeArgs: ['--import', 'tsx', source] };
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return { nodeArgs: ['--import', 'tsx', source] };
  }
  const outfile = fileURLToPath(new URL('../../node_modules/.cache/rollout-bench/workerChild.mjs', import.meta.url));
  await esbuild.build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    logLevel: 'warning',
  });
  return { nodeArgs: [outfile] };
}

/** The worker alone in a child process; its workflow bundle is built here so that bundling is not counted. */
async function startWorkerChild(
  address: string,
  taskQueue: string,
  tuning: { maxConcurrentActivityTaskExecutions?: number },
): Promise<{ peakRss(): number; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-worker-'));
  const bundle = path.join(dir, 'workflows.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  writeFileSync(bundle, code);
  const script = await workerChildScript();
  // The production worker's Node flags; BENCH_WORKER_FLAGS (space-separated, or "none") replaces them to compare.
  const given = process.env.BENCH_WORKER_FLAGS;
  const flags = given === undefined ? WORKER_NODE_FLAGS : given === 'none' ? [] : given.split(/\s+/).filter(Boolean);
  // The production worker's environment (WORKER_ENV) too; BENCH_WORKER_ENV=none leaves it out to compare.
  const workerEnv = process.env.BENCH_WORKER_ENV === 'none' ? {} : WORKER_ENV;
  const child: ChildProcess = spawn(process.execPath, [...flags, ...script.nodeArgs], {
    env: {
      ...process.env,
      ...workerEnv,
      BENCH_ADDRESS: address,
      BENCH_TASK_QUEUE: taskQueue,
      BENCH_BUNDLE: bundle,
      BENCH_TUNING: JSON.stringify(tuning),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stopping = false;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (!out.includes('ready')) return;
      // Ready: from now on its log lines (warnings and errors) go to this process's stderr, not the figures.
      child.stdout?.off('data', onData);
      child.stdout?.pipe(process.stderr);
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it was ready`)));
  });
  // A worker that dies mid-benchmark would leave the rollout waiting forever: say so and end.
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`bench: the worker process exited (${code ?? signal}) during the benchmark`);
    process.exit(1);
  });
  const pid = child.pid ?? 0;
  let peak = vmHwm(pid) ?? 0;
  // VmHWM is already a high-water mark; the sampler only keeps the last value seen should the process die.
  const sampler = setInterval(() => (peak = Math.max(peak, vmHwm(pid) ?? 0)), 1000);
  sampler.unref();
  return {
    peakRss: () => Math.max(peak, vmHwm(pid) ?? 0),
    async stop() {
      stopping = true;
      clearInterval(sampler);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
