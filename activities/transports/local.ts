// Runs scripts on the worker machine itself (single-machine deploys), with the same wrapper as over SSH:
// workdir, target lock, process group, env, set_output, timeout/abort semantics.

import { spawn } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import {
  abortedBeforeStart,
  DEFAULT_RUN_RETENTION_MS,
  followRun,
  type CommandHandle,
  type CommandIO,
} from './remoteCommand';
import { LocalShellPool } from './localPool';
import type { TargetPlan } from '../../domain/plan';
import { TransportError, type ScriptRequest, type ScriptResult, type Transport } from './types';

/** Worker environment variables a local script inherits by default (everything else stays with the worker). */
export const DEFAULT_INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface LocalTransportOptions {
  /** Names of worker environment variables passed to scripts (default DEFAULT_INHERITED_ENV). */
  inheritEnv?: string[];
  /** Grace between SIGTERM and SIGKILL when a run is stopped or times out (default 2000 ms). */
  killGraceMs?: number;
  /** Nothing heard from the follower for this long: it is presumed gone (default 20 000 ms). */
  staleMs?: number;
  /** Finished runs older than this are removed by the next start in the workdir (default 7 days). */
  runRetentionMs?: number;
  /** Shell used to start the wrapper (default `bash`). */
  shell?: string;
  /**
   * Long-lived shells that run the wrapper's commands, one at a time each (localPool.ts), so that a run does not
   * spawn a process from the worker; beyond this many at once, runs spawn one (default 128; 0: never pooled).
   */
  poolShells?: number;
  /** An idle pooled shell exits after this long unused (default 60 000 ms). */
  poolIdleMs?: number;
}

export class LocalTransport implements Transport {
  private readonly inheritEnv: string[];
  private readonly killGraceMs: number;
  private readonly shell: string;
  private readonly staleMs: number;
  private readonly runRetentionMs: number;
  private readonly env: Record<string, string>;
  /** The pooled shells (see LocalTransportOptions.poolShells). */
  readonly pool: LocalShellPool;

  constructor(opts: LocalTransportOptions = {}) {
    this.inheritEnv = opts.inheritEnv ?? DEFAULT_INHERITED_ENV;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.shell = opts.shell ?? 'bash';
    this.staleMs = opts.staleMs ?? 20_000;
    this.runRetentionMs = opts.runRetentionMs ?? DEFAULT_RUN_RETENTION_MS;
    this.env = {};
    for (const name of this.inheritEnv) {
      const v = process.env[name];
      if (v !== undefined) this.env[name] = v;
    }
    this.pool = new LocalShellPool({
      shell: this.shell,
      env: this.env,
      max: Math.max(0, Math.floor(opts.poolShells ?? 128)),
      idleMs: opts.poolIdleMs ?? 60_000,
    });
  }

  /** Copies a worker file under the target's workdir (the "target" is this machine). */
  async putFile(target: TargetPlan, localPath: string, remotePath: string): Promise<void> {
    const dest = join(target.workdir.replace(/^~(?=$|\/)/, homedir()), remotePath);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(localPath, dest);
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
    const env = this.env;
    const who = `${target.name} (local)`;
    const startFresh = (command: string, stdin: string, io: CommandIO) =>
      new Promise<CommandHandle>((resolve, reject) => {
        const child = spawn(this.shell, ['--norc', '-c', command], {
          cwd: target.workdir,
          env,
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let spawned = false;
        let done = false;
        const closed = (err?: Error): void => {
          if (done) return;
          done = true;
          io.closed(err);
        };
        child.once('spawn', () => {
          spawned = true;
          child.stdin.on('error', () => undefined); // the command may exit before reading everything
          child.stdin.end(stdin);
          resolve({
            dispose: () => {
              child.stdout.destroy();
              child.stderr.destroy();
              child.unref();
            },
            broken: () => undefined,
          });
        });
        child.once('error', (err) => {
          const e = new TransportError('other', `${who}: cannot start ${this.shell}: ${err.message}`, false);
          if (spawned) closed(e);
          else reject(e);
        });
        child.stdout.on('data', (c: Buffer) => io.stdout(c));
        child.stderr.on('data', (c: Buffer) => io.stderr(c));
        child.once('close', () => closed());
      });
    return followRun(
      {
        describe: who,
        start: (command, stdin, io) =>
          this.pool
            .start(command, stdin, io, () => startFresh(command, stdin, io))
            .then((h) => h ?? startFresh(command, stdin, io)),
        runQuick: (command) =>
          new Promise<void>((resolve) => {
            const k = spawn(this.shell, ['--norc', '-c', command], { env, stdio: 'ignore' });
            k.once('error', () => resolve());
            k.once('close', () => resolve());
          }),
      },
      { ...req, target },
      { killGraceMs: this.killGraceMs, staleMs: this.staleMs, retentionMs: this.runRetentionMs },
    );
  }

  async close(): Promise<void> {
    this.pool.close();
  }
}
