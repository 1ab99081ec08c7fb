// Fault injection for the run-once tests: worker processes to SIGKILL/SIGTERM, network cuts with iptables, scripts
// that leave countable markers on their targets.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import type { RunSettings } from '../../activities/scripts';
import type { SshTransportOptions } from '../../activities/transports/ssh';
import type { TargetPlan } from '../../domain/plan';
import { readTargetFile } from './rollouts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A worker in its own OS process (test/support/workerProcess.ts), resolved once it polls. */
export async function spawnWorker(o: {
  taskQueue: string;
  address?: string;
  runs?: RunSettings;
  ssh?: SshTransportOptions;
  shutdownGraceMs?: number;
}): Promise<WorkerProcess> {
  // node itself (not the tsx CLI, which would put a second process between us and the worker).
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/workerProcess.ts'], {
    env: {
      ...process.env,
      TEMPORAL_TEST_ADDRESS: o.address ?? inject('temporalAddress'),
      WORKER_TASK_QUEUE: o.taskQueue,
      WORKER_BUNDLE_PATH: inject('workflowBundlePath'),
      ...(o.runs ? { WORKER_RUNS: JSON.stringify(o.runs) } : {}),
      ...(o.ssh ? { WORKER_SSH: JSON.stringify(o.ssh) } : {}),
      ...(o.shutdownGraceMs !== undefined ? { WORKER_SHUTDOWN_GRACE_MS: String(o.shutdownGraceMs) } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`worker exited (${code ?? signal}) before it was ready`)));
  });
  return { child, exited };
}

/** SIGKILLs a worker process (if still alive) and waits until it is gone. */
export async function killWorker(w: WorkerProcess | undefined): Promise<void> {
  if (!w) return;
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exited;
}

/** Polls until `pred` holds (never a blind sleep); fails after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Number of non-empty lines of a file in a target's workdir. */
export function lineCount(t: TargetPlan, file: string): number {
  return (readTargetFile(t, file) ?? '').split('\n').filter(Boolean).length;
}

/**
 * A script that counts itself: appends to `runs` when it starts, prints and appends a tick per second, appends to
 * `finished` at the end and exits with `exit`.
 */
export function tickingScript(seconds: number, exit = 0): string {
  return [
    'echo "start $$" >> runs',
    `for i in $(seq 1 ${seconds}); do echo "tick $i"; echo $i >> ticks; sleep 1; done`,
    'echo done >> finished',
    'echo "all done"',
    `exit ${exit}`,
  ].join('\n');
}

// ---- network cuts (the playbook's recipe: iptables DROP on a target's loopback address) ------------------------

/** Rules this process added, by address (each is removed exactly as often as it was added). */
const cuts = new Map<string, number>();

export function cutPath(address: string): void {
  execFileSync('iptables', ['-A', 'INPUT', '-d', address, '-j', 'DROP']);
  cuts.set(address, (cuts.get(address) ?? 0) + 1);
}

export function restorePath(address: string): void {
  const n = cuts.get(address) ?? 0;
  cuts.delete(address);
  for (let i = 0; i < n; i++)
    execFileSync('iptables', ['-D', 'INPUT', '-d', address, '-j', 'DROP'], { stdio: 'ignore' });
}

/** Removes every rule the tests added (afterEach / finally). */
export function restoreAllPaths(): void {
  for (const a of [...cuts.keys()]) {
    try {
      restorePath(a);
    } catch {
      // already gone
    }
  }
}
