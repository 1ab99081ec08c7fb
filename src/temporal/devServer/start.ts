// Starting one `temporal server start-dev` process with every port pinned, and waiting until its gRPC frontend
// answers; on failure the error carries the tail of its log.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEV_PORT_BASE_ENV, isPortFree, type DevServerPorts } from './ports';
import { killAndWait, STOP_GRACE_MS } from './process';
import { waitUntilAnswering } from './readiness';

export const DEV_SERVER_LOG_FILE = 'temporal.log';
const DEV_SERVER_DB_FILE = 'temporal.db';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/**
 * SQLite settings of the embedded server. The defaults (journal `delete`, full sync) cost 5-7 ms a write and
 * saturate the file under a wide rollout (child workflow starts p99 3.5 s). WAL with synchronous=NORMAL survives a
 * crash of the server process; only a power loss can drop the last transactions (acceptable for the dev server;
 * production runs on the real Temporal server).
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=NORMAL'];

/**
 * Dynamic config of the embedded server. Eager activity execution: when a workflow task schedules an activity on
 * its own task queue, the server hands the activity task back in the response to that workflow task's completion
 * instead of queueing it for the next poll (the SDK asks for it by default: ActivityOptions.allowEagerDispatch).
 * The CLI's dev server already turns it on (its server metrics count `activity_eager_execution` without the flag);
 * the flag keeps that explicit. The Temporal server itself defaults to off: production gets it from
 * deploy/temporal/dynamicconfig.yaml.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['system.enableActivityEagerExecution=true'];

export interface StartDevServerOptions {
  /** Absolute path of the `temporal` CLI binary. */
  cliPath: string;
  /** Directory for the SQLite db (`<stateDir>/temporal.db`) and, by default, the log. Created if missing. */
  stateDir: string;
  /** Address to bind the frontend (and UI) to. Default `127.0.0.1`. */
  ip?: string;
  grpcPort: number;
  httpPort: number;
  /** Required unless `headless`. */
  uiPort?: number;
  metricsPort: number;
  headless: boolean;
  /** Namespace to create at launch and to wait for. Default `default` (always created). */
  namespace?: string;
  /** Detached: own session, unref'd, outlives this process. Otherwise it is killed when this process exits. */
  detached: boolean;
  /** Server stdout/stderr go here (appended). Default `<stateDir>/temporal.log`. */
  logFile?: string;
  /** Default `<stateDir>/temporal.db`. */
  dbFile?: string;
  /** How long to wait for the frontend to answer. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface DevServerHandle {
  /** `host:port` of the gRPC frontend, for `Connection.connect({ address })`. */
  address: string;
  /** Web UI, unless headless. */
  uiUrl?: string;
  pid: number;
  namespace: string;
  ports: DevServerPorts;
  dbFile: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** The host a client dials for a server bound to `ip` (a wildcard bind is reached on loopback). */
function clientHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '[::1]';
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

/** The last lines the server logged since `fromOffset` (at most the last 16 KiB are read). */
async function logTail(logFile: string, fromOffset: number, maxLines = 40): Promise<string> {
  try {
    const fh = await open(logFile, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(fromOffset, size - 16 * 1024);
      const buf = Buffer.alloc(Math.max(0, size - start));
      await fh.read(buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      return lines.slice(-maxLines).join('\n').trim();
    } finally {
      await fh.close();
    }
  } catch {
    return '(no log)';
  }
}

/** Starts `temporal server start-dev` with every port pinned and waits until its gRPC frontend answers. */
export async function startDevServer(opts: StartDevServerOptions): Promise<DevServerHandle> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const stateDir = path.resolve(opts.stateDir);
  const dbFile = path.resolve(opts.dbFile ?? path.join(stateDir, DEV_SERVER_DB_FILE));
  const logFile = path.resolve(opts.logFile ?? path.join(stateDir, DEV_SERVER_LOG_FILE));
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  if (!opts.headless && opts.uiPort === undefined)
    throw new Error('startDevServer: uiPort is required unless headless');

  const ports: DevServerPorts = {
    grpc: opts.grpcPort,
    http: opts.httpPort,
    metrics: opts.metricsPort,
    ...(opts.headless ? {} : { ui: opts.uiPort }),
  };
  const named = Object.entries(ports) as [keyof DevServerPorts, number][];
  const seen = new Set<number>();
  for (const [name, port] of named) {
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      throw new Error(`startDevServer: bad ${name} port ${port}`);
    if (seen.has(port)) throw new Error(`startDevServer: port ${port} is used twice`);
    seen.add(port);
  }
  await mkdir(stateDir, { recursive: true });
  await mkdir(path.dirname(dbFile), { recursive: true });
  await mkdir(path.dirname(logFile), { recursive: true });

  // Refuse early, with a clear message, when a port is taken (usually: another dev server on the same base).
  const busy: string[] = [];
  for (const [name, port] of named) if (!(await isPortFree(port, ip))) busy.push(`${name} ${port}`);
  if (busy.length) {
    throw new Error(
      `Cannot start the Temporal dev server: port(s) already in use on ${ip}: ${busy.join(', ')}. ` +
        `Another server may be running; pick other ports (e.g. ${DEV_PORT_BASE_ENV}=<base>).`,
    );
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(ports.grpc),
    '--http-port',
    String(ports.http),
    '--metrics-port',
    String(ports.metrics),
    ...(opts.headless ? ['--headless'] : ['--ui-port', String(ports.ui)]),
    ...(namespace !== 'default' ? ['--namespace', namespace] : []),
    '--db-filename',
    dbFile,
    ...DEV_SERVER_SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]),
    ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
    '--log-level',
    'warn',
  ];

  const logStart = await stat(logFile).then(
    (s) => s.size,
    () => 0,
  );
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} ${opts.cliPath} ${args.join(' ')}\n`);
    // No `env`: the server inherits this process's environment (spawn's default).
    child = spawn(opts.cliPath, args, {
      cwd: stateDir,
      detached: opts.detached,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }

  let exitReason: string | undefined;
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
    exitReason ??= `failed to run ${opts.cliPath}: ${e.message}`;
  });
  child.once('exit', (code, sig) => {
    exitReason ??= `the server exited (${sig ? `signal ${sig}` : `code ${code}`})`;
  });
  const exited = () => exitReason !== undefined;

  // A non-detached server must not outlive us, even when we exit without calling stop().
  const killOnExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  };
  if (opts.detached) child.unref();
  else process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid !== undefined) await killAndWait(child.pid, STOP_GRACE_MS, exited);
      process.off('exit', killOnExit);
    })();
    return stopping;
  };

  if (child.pid === undefined) {
    await sleep(0); // let 'error' fire
    process.off('exit', killOnExit);
    throw new Error(`Cannot start the Temporal dev server: ${spawnError?.message ?? exitReason ?? 'spawn failed'}`);
  }

  const address = `${clientHost(ip)}:${ports.grpc}`;
  const failure = await waitUntilAnswering(address, namespace, readyTimeoutMs, () => exitReason);
  if (failure) {
    await stop().catch(() => undefined);
    const tail = await logTail(logFile, logStart);
    throw new Error(`Temporal dev server did not come up: ${failure}. Log (${logFile}), last lines:\n${tail}`);
  }

  return {
    address,
    ...(ports.ui !== undefined ? { uiUrl: `http://${clientHost(ip)}:${ports.ui}` } : {}),
    pid: child.pid,
    namespace,
    ports,
    dbFile,
    logFile,
    stop,
  };
}
