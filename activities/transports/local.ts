// Runs scripts on the worker machine itself (single-machine deploys), with the same wrapper as over SSH:
// workdir, target lock, process group, env, set_output, timeout/abort semantics.

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import {
  abortedBeforeStart,
  buildKillCommand,
  buildRemoteCommand,
  newRunId,
  superviseRun,
  type RunHandle,
} from './remoteCommand';
import { TransportError, type ScriptRequest, type ScriptResult, type Transport } from './types';

/** Worker environment variables a local script inherits by default (everything else stays with the worker). */
export const DEFAULT_INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface LocalTransportOptions {
  /** Names of worker environment variables passed to scripts (default DEFAULT_INHERITED_ENV). */
  inheritEnv?: string[];
  /** Grace between SIGTERM and SIGKILL when a run is stopped (default 2000 ms). */
  killGraceMs?: number;
  /** Shell used to start the wrapper (default `bash`). */
  shell?: string;
}

export class LocalTransport implements Transport {
  private readonly inheritEnv: string[];
  private readonly killGraceMs: number;
  private readonly shell: string;

  constructor(opts: LocalTransportOptions = {}) {
    this.inheritEnv = opts.inheritEnv ?? DEFAULT_INHERITED_ENV;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.shell = opts.shell ?? 'bash';
  }

  async run(req: ScriptRequest): Promise<ScriptResult> {
    if (req.signal?.aborted) return abortedBeforeStart();
    const workdir = req.target.workdir.replace(/^~(?=$|\/)/, homedir());
    const target = { ...req.target, workdir };
    try {
      await mkdir(target.workdir, { recursive: true });
    } catch (err) {
      throw new TransportError(
        'other',
        `${target.name} (local): cannot create workdir ${target.workdir}: ${(err as Error).message}`,
        false,
      );
    }
    const runId = newRunId();
    const { command, stdin } = buildRemoteCommand({ workdir: target.workdir, env: req.env, runId, script: req.script });
    const env: Record<string, string> = {};
    for (const name of this.inheritEnv) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }

    return superviseRun(
      { ...req, target },
      (hooks) =>
        new Promise<RunHandle>((resolve, reject) => {
          const child = spawn(this.shell, ['--norc', '-c', command], {
            cwd: target.workdir,
            env,
            detached: true,
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let spawned = false;
          child.once('spawn', () => {
            spawned = true;
            child.stdin.on('error', () => undefined); // the wrapper may exit before reading everything
            child.stdin.end(stdin);
            resolve({
              kill: () => this.runKill(target.workdir, runId, env),
              dispose: () => {
                child.stdout.destroy();
                child.stderr.destroy();
                child.unref();
              },
            });
          });
          child.once('error', (err) => {
            const e = new TransportError(
              'other',
              `${target.name} (local): cannot start ${this.shell}: ${err.message}`,
              false,
            );
            if (spawned) hooks.fail(e);
            else reject(e);
          });
          child.stdout.on('data', (c: Buffer) => hooks.stdout(c));
          child.stderr.on('data', (c: Buffer) => hooks.stderr(c));
          child.once('exit', (code) => hooks.exit(code));
          child.once('close', () => hooks.closed());
        }),
      {
        killWaitMs: this.killGraceMs + 3000,
        lostError: () =>
          new TransportError('other', `${target.name} (local): the run ended without an exit status`, true),
      },
    );
  }

  private runKill(workdir: string, runId: string, env: Record<string, string>): Promise<void> {
    return new Promise<void>((resolve) => {
      const k = spawn(this.shell, ['--norc', '-c', buildKillCommand(workdir, runId, this.killGraceMs)], {
        env,
        stdio: 'ignore',
      });
      k.once('error', () => resolve());
      k.once('close', () => resolve());
    });
  }

  async close(): Promise<void> {
    // nothing cached
  }
}
