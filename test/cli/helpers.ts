// Running the real `rollout` CLI (bin/rollout.mjs) as child processes, and config files with local targets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE = path.join(ROOT, 'node_modules/.bin/node');
export const BIN = path.join(ROOT, 'bin/rollout.mjs');

/**
 * The test process's environment without anything that steers the CLI, plus `extra`. A worker's metrics and
 * health ports are off unless `extra` sets them: their fixed defaults would collide between test runs.
 */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('ROLLOUT_') || k.startsWith('TEMPORAL_') || k.startsWith('SLACK_') || k === 'LOG_LEVEL') continue;
    env[k] = v;
  }
  return { ...env, ROLLOUT_METRICS_PORT: 'off', ROLLOUT_HEALTH_PORT: 'off', ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr match `re`; rejects on exit or timeout, with the output so far. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves with the result. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<CliResult>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): CliProcess {
  const child = spawn(NODE, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitFor(re, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(stdout + stderr)) {
        if (done) throw new Error(`rollout ${args.join(' ')} exited before printing ${re}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline)
          throw new Error(`rollout ${args.join(' ')} did not print ${re} in ${timeoutMs} ms:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<CliResult> {
  const p = spawnCli(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every CLI process still running (afterAll safety net). */
export async function killAllCli(): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('close', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

export interface LocalFixture {
  dir: string;
  configPath: string;
  workdir(target: string): string;
}

/** A temp dir with a config whose targets run locally (transport: local) in `<dir>/targets/<name>`. */
export function localConfig(deployables: Record<string, unknown>, targets = ['a', 'b', 'c']): LocalFixture {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-cli-'));
  const workdir = (t: string) => path.join(dir, 'targets', t);
  const config = {
    targets: Object.fromEntries(targets.map((t) => [t, { transport: 'local', workdir: workdir(t), tags: ['web'] }])),
    deployables,
  };
  const configPath = path.join(dir, 'rollout.yaml');
  writeFileSync(configPath, YAML.stringify(config));
  return { dir, configPath, workdir };
}
