// The shell command that wraps a user script on a target, shared by the SSH and the local transport.
//
// The command is given to a POSIX shell (the SSH user's login shell, or `bash -c` locally); the env exports and the
// script text (verbatim: any characters, any size) are written to the command's stdin. On the target the wrapper:
//   1. creates and enters the workdir;
//   2. starts a bash in a new session (`setsid`), so the wrapper, the lock holder, the script and everything the
//      script starts share one process group, and records that group id in `.rollout-<runId>.pgid`;
//   3. gives up at once if the run was cancelled before it started (`.rollout-<runId>.cancel`, see buildKillCommand);
//   4. saves the script to `.rollout-<runId>.sh` and sources the env exports (their file is removed at once);
//   5. takes an exclusive `flock` on `<workdir>/.rollout.lock`, WAITING for any other run on the target (this is
//      what stops a retry after a worker crash from overlapping a still-running original);
//   6. runs `bash .rollout-<runId>.sh` (with the env and an exported `set_output` function), stdin from /dev/null
//      and without the lock descriptor (a daemon started by the script does not keep the target locked);
//   7. removes its files and exits with the script's exit code.
// A timeout or abort runs buildKillCommand(), which sends SIGTERM to the whole group, then SIGKILL after a grace.
//
// Env values never appear on a command line (visible to every user through `ps`).

import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { shellQuote } from '../../domain/variables';
import { parseOutputLine, SET_OUTPUT_SHELL_FUNCTION } from '../outputVariables';
import { TAIL_LIMIT, TransportError, type ScriptRequest, type ScriptResult } from './types';

export { shellQuote };

/** Quotes a path for the shell, keeping a leading `~/` (or a lone `~`) as the login user's home directory. */
export function shellPath(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shellQuote(path.slice(2))}`;
  return shellQuote(path);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A fresh run id: names the run's files in the workdir (`.rollout-<runId>.*`). */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export const LOCK_FILE = '.rollout.lock';

export function runFiles(runId: string): { input: string; env: string; script: string; pgid: string; cancel: string } {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new Error(`invalid run id: ${runId}`);
  return {
    input: `.rollout-${runId}.in`,
    env: `.rollout-${runId}.env`,
    script: `.rollout-${runId}.sh`,
    pgid: `.rollout-${runId}.pgid`,
    cancel: `.rollout-${runId}.cancel`,
  };
}

/** Exit code the wrapper uses when the run was cancelled before the script started. */
export const CANCELLED_EXIT_CODE = 125;

export interface RemoteCommandInput {
  workdir: string;
  env: Record<string, string>;
  runId: string;
}

export interface RemoteCommand {
  /** Give this to a POSIX shell (ssh exec, or `bash -c`). Holds no env values (they would show in `ps`). */
  command: string;
  /** Write this to the command's stdin, then close stdin: the env exports, then the script text verbatim. */
  stdin: string;
}

/** Builds the wrapper command for one script run. Throws on an invalid env var name or a NUL character. */
export function buildRemoteCommand(input: RemoteCommandInput & { script: string }): RemoteCommand {
  const { workdir, env, runId, script } = input;
  if (workdir === '') throw new Error('workdir must not be empty');
  const files = runFiles(runId);
  let exports = '';
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${JSON.stringify(name)}`);
    exports += `export ${name}=${shellQuote(value)}\n`;
  }
  const envBytes = Buffer.byteLength(exports, 'utf8');
  // Runs inside the new session; $$ is the process-group id. stdin = <envBytes bytes of exports><script>; the
  // exports are sourced (and their file removed) before waiting for the lock, so env values (maybe secrets) are
  // neither on the command line nor on disk while the run waits. Run files are private (umask 077).
  const inner = [
    'um=$(umask); umask 077',
    `echo $$ > ${files.pgid} || exit 1`,
    `if [ -e ${files.cancel} ]; then rm -f ${files.cancel} ${files.pgid}; exit ${CANCELLED_EXIT_CODE}; fi`,
    `cleanup() { rm -f ${files.input} ${files.env} ${files.script} ${files.pgid}; }`,
    `cat > ${files.input} || { cleanup; exit 1; }`,
    `head -c ${envBytes} ${files.input} > ${files.env} && tail -c +${envBytes + 1} ${files.input} > ${files.script} || { cleanup; exit 1; }`,
    `rm -f ${files.input}`,
    `. ./${files.env}`,
    `rm -f ${files.env}`,
    SET_OUTPUT_SHELL_FUNCTION,
    'export -f set_output',
    `exec 9>>${LOCK_FILE} || { cleanup; exit 1; }`,
    'flock 9 || { cleanup; exit 1; }',
    'umask "$um"',
    `bash ${files.script} </dev/null 9>&-`,
    'rc=$?',
    'cleanup',
    'exit $rc',
  ].join('\n');
  // `--norc`: bash sources ~/.bashrc when its stdin is a socket (as with Node's stdio pipes) and SHLVL < 2,
  // taking it for an rsh/ssh session; the wrapper and the script must not depend on an interactive setup.
  const command =
    `mkdir -p -- ${shellPath(workdir)} && cd -- ${shellPath(workdir)} && ` +
    `exec setsid -w bash --norc -c ${shellQuote(inner)} rollout-run`;
  return { command, stdin: exports + script };
}

/**
 * The command that stops a run (timeout or abort): marks it cancelled (so a run still waiting to start never
 * starts), then sends SIGTERM to its whole process group, waits up to `graceMs` for the group to disappear and
 * sends SIGKILL to whatever is left. Exits 0 in every case.
 */
export function buildKillCommand(workdir: string, runId: string, graceMs = 2000): string {
  const files = runFiles(runId);
  const steps = Math.max(1, Math.ceil(graceMs / 100));
  const script = [
    `cd -- ${shellPath(workdir)} 2>/dev/null || exit 0`,
    `: > ${files.cancel}`,
    `pg=$(cat ${files.pgid} 2>/dev/null)`,
    'case "$pg" in ""|*[!0-9]*) exit 0;; esac',
    `rm -f ${files.cancel}`,
    // Zombies count as gone (they may wait a while for an init that reaps slowly).
    'alive() { if command -v ps >/dev/null 2>&1; then ps -e -o pgid= -o stat= 2>/dev/null | ' +
      `awk -v g="$pg" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; else kill -0 -- "-$pg" 2>/dev/null; fi; }`,
    'kill -TERM -- "-$pg" 2>/dev/null || exit 0',
    'i=0',
    `while [ $i -lt ${steps} ] && alive; do sleep 0.1; i=$((i+1)); done`,
    'kill -KILL -- "-$pg" 2>/dev/null',
    `rm -f ${files.input} ${files.env} ${files.script} ${files.pgid}`,
    'exit 0',
  ].join('\n');
  return `bash --norc -c ${shellQuote(script)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Run supervision shared by both transports: output lines, tails, output variables, timeout and abort.

/** Longest line kept whole; a longer run of characters without a newline is cut into lines of this size. */
export const MAX_LINE = 64 * 1024;

/** Splits streamed output into lines, keeps bounded tails and collects output variables. */
export class OutputCollector {
  readonly outputs: Record<string, string> = {};
  private readonly tails = { stdout: '', stderr: '' };
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(private readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void) {}

  push(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk);
    this.take(stream, text);
  }

  /** Flushes decoders and emits a last line without a newline. Idempotent. */
  finish(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.take(stream, this.decoders[stream].end());
      if (this.partial[stream] !== '') {
        const line = this.partial[stream];
        this.partial[stream] = '';
        this.emit(stream, line);
      }
    }
  }

  get stdoutTail(): string {
    return this.tails.stdout.slice(-TAIL_LIMIT);
  }

  get stderrTail(): string {
    return this.tails.stderr.slice(-TAIL_LIMIT);
  }

  private take(stream: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    let tail = this.tails[stream] + text;
    if (tail.length > 2 * TAIL_LIMIT) tail = tail.slice(-TAIL_LIMIT);
    this.tails[stream] = tail;
    let buf = this.partial[stream] + text;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      this.emit(stream, buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    while (buf.length > MAX_LINE) {
      this.emit(stream, buf.slice(0, MAX_LINE));
      buf = buf.slice(MAX_LINE);
    }
    this.partial[stream] = buf;
  }

  private emit(stream: 'stdout' | 'stderr', rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const out = parseOutputLine(line);
    if (out) this.outputs[out.name] = out.value;
    if (this.onLine) {
      try {
        this.onLine(line, stream);
      } catch {
        // a failing observer must not break the run
      }
    }
  }
}

/** What a transport reports about the process it started. */
export interface RunHooks {
  stdout(chunk: Buffer | string): void;
  stderr(chunk: Buffer | string): void;
  /** The wrapper exited (code null: killed by a signal). Output may still be draining. */
  exit(code: number | null): void;
  /** All output streams are closed. */
  closed(): void;
  /** The process or channel failed (e.g. the connection was lost). Ignored once the run is settled. */
  fail(err: Error): void;
}

/** What the supervisor can do with the process a transport started. */
export interface RunHandle {
  /** Kill the run's process group (buildKillCommand). Should settle within a few seconds. */
  kill(): Promise<void>;
  /** Release the channel / streams (called once, when the run is settled). */
  dispose(): void;
}

export interface SuperviseOptions {
  /** After the wrapper exited, how long to wait for the output streams to close (a daemon may keep them). */
  drainMs?: number;
  /** After a kill, how long to wait for the wrapper to go before giving up on it. */
  killWaitMs?: number;
  /** Builds the error for a run whose process/channel closed without an exit status. */
  lostError?: (cause?: Error) => Error;
}

/** The result of a run that was never started because its signal was already aborted. */
export function abortedBeforeStart(): ScriptResult {
  return {
    exitCode: null,
    timedOut: false,
    aborted: true,
    stdoutTail: '',
    stderrTail: '',
    outputs: {},
    durationMs: 0,
  };
}

/**
 * Runs one script through `start` and turns what happens into a ScriptResult: streams output into an
 * OutputCollector, enforces req.timeoutMs (<= 0 or non-finite: no timeout) and req.signal by calling handle.kill(),
 * and resolves with exitCode null and timedOut/aborted set in those cases. Rejects with the error from `start`
 * or, if the process/channel vanished without an exit status, with opts.lostError().
 */
export function superviseRun(
  req: ScriptRequest,
  start: (hooks: RunHooks) => Promise<RunHandle>,
  opts: SuperviseOptions = {},
): Promise<ScriptResult> {
  if (req.signal?.aborted) return Promise.resolve(abortedBeforeStart());
  const drainMs = opts.drainMs ?? 500;
  const killWaitMs = opts.killWaitMs ?? 5000;
  const t0 = Date.now();
  const collector = new OutputCollector(req.onLine);

  return new Promise<ScriptResult>((resolve, reject) => {
    let settled = false;
    let handle: RunHandle | undefined;
    let exited = false;
    let exitCode: number | null = null;
    let closed = false;
    let stopping: 'timeout' | 'abort' | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const waiters: Array<() => void> = [];

    const cleanup = (): void => {
      settled = true;
      if (drainTimer) clearTimeout(drainTimer);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      req.signal?.removeEventListener('abort', onAbort);
      try {
        handle?.dispose();
      } catch {
        // ignore
      }
    };
    const finish = (): void => {
      if (settled) return;
      cleanup();
      collector.finish();
      resolve({
        exitCode: stopping ? null : exitCode,
        timedOut: stopping === 'timeout',
        aborted: stopping === 'abort',
        stdoutTail: collector.stdoutTail,
        stderrTail: collector.stderrTail,
        outputs: { ...collector.outputs },
        durationMs: Date.now() - t0,
      });
    };
    const fail = (err: Error): void => {
      if (settled) return;
      if (stopping) return finish();
      cleanup();
      collector.finish();
      reject(err);
    };
    const wake = (): void => {
      for (const w of waiters.splice(0)) w();
    };

    const hooks: RunHooks = {
      stdout: (c) => {
        if (!settled) collector.push('stdout', c);
      },
      stderr: (c) => {
        if (!settled) collector.push('stderr', c);
      },
      exit: (code) => {
        if (settled || exited) return;
        exited = true;
        exitCode = code;
        wake();
        if (stopping) return;
        if (closed) finish();
        else drainTimer = setTimeout(finish, drainMs);
      },
      closed: () => {
        if (settled || closed) return;
        closed = true;
        wake();
        if (stopping) return; // kill() settles the run once the kill command is done
        if (exited) finish();
        else
          fail(
            opts.lostError
              ? opts.lostError()
              : new TransportError('other', 'the run ended without an exit status', true),
          );
      },
      fail: (err) => {
        if (stopping) {
          wake();
          return;
        }
        fail(err);
      },
    };

    const kill = (h: RunHandle): void => {
      const gone = new Promise<void>((r) => {
        if (exited || closed) r();
        else waiters.push(r);
      });
      const killed = h.kill().catch(() => undefined);
      // Settle once the kill command is done and the wrapper is gone, or after killWaitMs whatever happens.
      const bound = new Promise<void>((r) => setTimeout(r, killWaitMs).unref());
      void Promise.race([Promise.all([killed, gone]), bound]).then(finish);
    };
    const stop = (why: 'timeout' | 'abort'): void => {
      if (settled || stopping || exited) return;
      stopping = why;
      if (handle) kill(handle); // else: killed as soon as start() hands over the handle
    };
    function onAbort(): void {
      stop('abort');
    }

    req.signal?.addEventListener('abort', onAbort, { once: true });
    start(hooks).then(
      (h) => {
        if (settled) {
          // failed or finished while starting
          try {
            h.dispose();
          } catch {
            // ignore
          }
          return;
        }
        handle = h;
        if (stopping) return kill(h);
        if (Number.isFinite(req.timeoutMs) && req.timeoutMs > 0) {
          const left = req.timeoutMs - (Date.now() - t0);
          timeoutTimer = setTimeout(() => stop('timeout'), Math.max(0, left));
        }
      },
      (err: unknown) => {
        if (settled) return;
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
