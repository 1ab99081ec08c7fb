// Long-lived local shells for the local transport: each runs POOL_LOOP (remoteCommand.ts), the loop a pooled SSH
// channel runs, and takes one request at a time on its stdin. Why: a fresh run spawns a process from the worker,
// and spawn() forks the worker's whole process in its main thread, the thread that also carries every workflow
// task to the workflow thread. Measured here: 1.5 ms a spawn from a 54 MB process, 3.8 ms from a 460 MB one
// (quiet machine), and a 10,000-target bench:scale run spent 52% of the worker's main thread in spawn(), so its
// workflow tasks took 10-30 s (past their 10 s timeout). A request on a pooled shell is a write to a pipe; the shell
// forks (a small process) instead of the worker.
//
// The same rules as the SSH pool: a shell that died before a request produced a single byte gets the request again
// on a fresh process (safe: the same command and run id, and a start claims its run with `mkdir`, so it never
// starts a script twice); a shell goes back to the idle list only once both end markers are in and its caller is
// done with it, and any output out of step (after a marker, or from an idle shell) closes it.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  MarkerScanner,
  newPoolMarker,
  POOL_LOOP_COMMAND,
  poolRequest,
  type CommandHandle,
  type CommandIO,
} from './remoteCommand';

export interface LocalPoolOptions {
  /** The shell (bash). */
  shell: string;
  /** The environment every pooled shell (and so every command on it) starts with. */
  env: Record<string, string>;
  /** At most this many shells (busy or idle); beyond, runs spawn a fresh process as before. */
  max: number;
  /** An idle shell is closed after this long unused. */
  idleMs: number;
}

interface Job {
  io: CommandIO;
  out: MarkerScanner;
  err: MarkerScanner;
  /** Some output of this request arrived. */
  heard: boolean;
  /** Both end markers are in: the command ended and the shell is in step. */
  ended: boolean;
  /** io.closed was called. */
  closed: boolean;
  /** What the caller said when it let go: reuse the shell (once the markers are in) or close it. */
  disposed?: 'reuse' | 'close';
  endTimer?: NodeJS.Timeout;
  /** Counted in LocalShellPool.draining: let go (reuse), its end markers not in yet. */
  draining?: boolean;
}

interface Shell {
  child: ChildProcess;
  closed: boolean;
  job?: Job;
  idleTimer?: NodeJS.Timeout;
}

export class LocalShellPool {
  private readonly idle: Shell[] = [];
  private open = 0;
  /** Shells whose caller let go, waiting for their end markers (idle in a moment). */
  private draining = 0;
  private readonly drainWaiters: Array<() => void> = [];
  /** Shells started (for tests and metrics). */
  shellsStarted = 0;
  /** Requests that went to a shell that had served one before (for tests and metrics). */
  reuses = 0;

  constructor(private readonly o: LocalPoolOptions) {}

  /**
   * Runs `command` with `stdin` on a pooled shell; undefined when the request cannot go through the pool (see
   * poolRequest) or every shell is busy and the pool is full: the caller then spawns a fresh process. `fresh` is
   * that fallback, used when the shell dies before the request produced any output.
   */
  async start(
    command: string,
    stdin: string,
    io: CommandIO,
    fresh: () => Promise<CommandHandle>,
  ): Promise<CommandHandle | undefined> {
    if (this.o.max <= 0) return undefined;
    const marker = newPoolMarker();
    const request = poolRequest(marker, command, stdin);
    if (!request) return undefined;
    // A shell whose caller is done is idle as soon as its end markers are in (milliseconds): wait for it rather
    // than spawn another (the next child step of a chain comes right after the last one's outcome).
    while (this.idle.length === 0 && this.draining > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    let shell = this.idle.pop();
    if (shell) {
      if (shell.idleTimer) clearTimeout(shell.idleTimer);
      hold(shell, true);
      this.reuses++;
    } else if (this.open < this.o.max) shell = this.spawnShell();
    else return undefined;
    return this.send(shell, marker, request, io, fresh);
  }

  /** Closes every idle shell (busy ones close when their caller lets go). */
  close(): void {
    for (const s of this.idle.splice(0)) this.closeShell(s);
  }

  /** Shells open (busy or idle) and idle (for tests). */
  get counts(): { open: number; idle: number } {
    return { open: this.open, idle: this.idle.length };
  }

  private spawnShell(): Shell {
    this.open++;
    this.shellsStarted++;
    const child = spawn(this.o.shell, ['--norc', '-c', POOL_LOOP_COMMAND], {
      env: this.o.env,
      // A session of its own, as a fresh run's process: nothing aimed at the worker's group reaches it.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const shell: Shell = { child, closed: false };
    child.stdin.on('error', () => undefined); // a shell that exits while a request is written
    child.stdout.on('data', (c: Buffer) => {
      if (shell.job) shell.job.out.push(c);
      else this.closeShell(shell); // output from an idle shell: out of step, never reuse it
    });
    child.stderr.on('data', (c: Buffer) => {
      if (shell.job) shell.job.err.push(c);
      else this.closeShell(shell);
    });
    const gone = (err?: Error): void => {
      const wasClosed = shell.closed;
      this.closeShell(shell);
      const job = shell.job;
      shell.job = undefined;
      if (job && !job.closed && !wasClosed) this.lost(job, err);
    };
    child.once('error', (err) => gone(err));
    child.once('close', () => gone());
    return shell;
  }

  /** The shell died under a request: the caller hears it, unless the request is sent again (see `send`). */
  private lost(job: Job, err?: Error): void {
    job.closed = true;
    if (job.endTimer) clearTimeout(job.endTimer);
    if (job.disposed === undefined) job.io.closed(err ?? new Error('the local shell exited'));
  }

  private send(
    shell: Shell,
    marker: string,
    request: Buffer,
    io: CommandIO,
    fresh: () => Promise<CommandHandle>,
  ): CommandHandle {
    let inner: CommandHandle | undefined;
    let released = false;
    let outDone = false;
    let errDone = false;
    const ended = (rest: Buffer): void => {
      if (rest.length > 0) return this.closeShell(shell); // output after the marker: out of step
      if (!outDone || !errDone) return;
      job.ended = true;
      if (job.endTimer) clearTimeout(job.endTimer);
      if (job.disposed === 'reuse') this.release(shell, job);
      else if (job.disposed === 'close') this.closeShell(shell);
      else if (!job.closed) {
        // The command ended before its caller let go (e.g. it could not set the run up).
        job.closed = true;
        io.closed();
      }
    };
    const job: Job = {
      io: {
        stdout: io.stdout,
        stderr: io.stderr,
        closed: (err) => {
          // Died before this request produced a byte: the same request on a fresh process (see the top).
          if (!job.heard && !released) {
            fresh().then(
              (h) => {
                if (released) h.dispose(false);
                else inner = h;
              },
              (e: unknown) => io.closed(e instanceof Error ? e : new Error(String(e))),
            );
            return;
          }
          io.closed(err);
        },
      },
      out: new MarkerScanner(
        marker,
        (c) => {
          job.heard = true;
          if (!job.closed) io.stdout(c);
        },
        (rest) => {
          outDone = true;
          ended(rest);
        },
      ),
      err: new MarkerScanner(
        marker,
        (c) => {
          job.heard = true;
          if (!job.closed) io.stderr(c);
        },
        (rest) => {
          errDone = true;
          ended(rest);
        },
      ),
      heard: false,
      ended: false,
      closed: false,
    };
    shell.job = job;
    try {
      shell.child.stdin?.write(request);
    } catch (err) {
      shell.job = undefined;
      this.closeShell(shell);
      job.io.closed(err as Error);
    }
    return {
      dispose: (reusable) => {
        if (released) return;
        released = true;
        if (inner) return inner.dispose(reusable);
        if (shell.job !== job) return;
        job.disposed = reusable ? 'reuse' : 'close';
        // Detached, cancelled, stale or failed: the shell is closed (the follower on it ends with its pipes).
        if (!reusable) return this.closeShell(shell);
        if (job.ended) return this.release(shell, job);
        // The outcome is in; the command's end (and the end markers) follows at once. Not within 10 s: close it.
        job.draining = true;
        this.draining++;
        job.endTimer = setTimeout(() => this.closeShell(shell), 10_000);
        job.endTimer.unref?.();
      },
      broken: () => {
        if (inner) return inner.broken();
        if (shell.job === job && job.disposed === undefined) job.disposed = 'close';
        this.closeShell(shell);
      },
    };
  }

  /** Back to the idle list, closed after idleMs unused. */
  private release(shell: Shell, job: Job): void {
    job.closed = true;
    if (shell.job === job) shell.job = undefined;
    if (!shell.closed) {
      this.idle.push(shell);
      hold(shell, false);
      shell.idleTimer = setTimeout(() => this.closeShell(shell), this.o.idleMs);
      shell.idleTimer.unref?.();
    }
    this.drained(job);
  }

  /** A draining shell is idle or closed now: whoever waits for one tries again. */
  private drained(job: Job | undefined): void {
    if (!job?.draining) return;
    job.draining = false;
    this.draining--;
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Ends the shell: its stdin closed (the loop exits), its output pipes dropped. Idempotent. */
  private closeShell(shell: Shell): void {
    const at = this.idle.indexOf(shell);
    if (at >= 0) this.idle.splice(at, 1);
    if (shell.idleTimer) clearTimeout(shell.idleTimer);
    if (shell.closed) return;
    shell.closed = true;
    this.open--;
    shell.child.stdin?.end();
    shell.child.stdout?.destroy();
    shell.child.stderr?.destroy();
    shell.child.unref();
    this.drained(shell.job);
  }
}

/** A busy shell keeps the worker's event loop alive (as a fresh run's process does); an idle one does not. */
function hold(shell: Shell, busy: boolean): void {
  const { child } = shell;
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    const handle = stream as unknown as { ref?: () => void; unref?: () => void } | null;
    if (busy) handle?.ref?.();
    else handle?.unref?.();
  }
  if (busy) child.ref();
  else child.unref();
}
