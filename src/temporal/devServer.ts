/**
 * Embedded Temporal dev server (`temporal server start-dev`), backed by a SQLite file in the state dir.
 *
 * - `startDevServer` starts one and resolves once its gRPC frontend really answers (describeNamespace).
 * - `ensureDevServer` is for the CLI: reuses the server recorded in `<stateDir>/devserver.json` when it is alive
 *   and answering, otherwise starts a detached one that outlives the command and records it.
 * - `stopDevServer` stops the recorded one.
 *
 * Every port is pinned; nothing listens on Temporal's default 7233/8233.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { findOrInstallTemporalCli } from './binaries.js';

export const DEFAULT_DEV_PORT_BASE = 17233;
export const DEV_PORT_BASE_ENV = 'ROLLOUT_DEV_PORT_BASE';
/** Offsets from the base port: grpc=base, http=base+10, metrics=base+20, ui=base+1000. */
export const DEV_PORT_OFFSETS = { grpc: 0, http: 10, metrics: 20, ui: 1000 } as const;
export const DEV_SERVER_RECORD_FILE = 'devserver.json';
export const DEV_SERVER_LOG_FILE = 'temporal.log';
export const DEV_SERVER_DB_FILE = 'temporal.db';
const LOCK_FILE = 'devserver.lock';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

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

export interface DevServerPorts {
  grpc: number;
  http: number;
  metrics: number;
  /** Undefined when headless. */
  ui?: number;
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

export interface EnsureDevServerOptions {
  stateDir: string;
  /** Default `$ROLLOUT_DEV_PORT_BASE`, else 17233. */
  basePort?: number;
  /** Serve the Web UI on base+1000. Default true. */
  ui?: boolean;
  /** Default: findTemporalCli(stateDir), else installTemporalCli(stateDir). */
  cliPath?: string;
  namespace?: string;
  ip?: string;
  readyTimeoutMs?: number;
}

export interface EnsuredDevServer extends DevServerHandle {
  /** True when an already running server was reused. */
  reused: boolean;
}

/** What `<stateDir>/devserver.json` holds. */
export interface DevServerRecord {
  pid: number;
  address: string;
  ip: string;
  namespace: string;
  ports: DevServerPorts;
  uiUrl?: string;
  headless: boolean;
  dbFile: string;
  logFile: string;
  cliPath: string;
  startedAt: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Ports

/** A free TCP port on `host` (binds :0 and releases it). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err || !port ? reject(err ?? new Error('could not get a port')) : resolve(port)));
    });
  });
}

/** Whether `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The dev server's ports for a base port (see DEV_PORT_OFFSETS). */
export function devServerPorts(base: number, ui = true): DevServerPorts {
  return {
    grpc: base + DEV_PORT_OFFSETS.grpc,
    http: base + DEV_PORT_OFFSETS.http,
    metrics: base + DEV_PORT_OFFSETS.metrics,
    ...(ui ? { ui: base + DEV_PORT_OFFSETS.ui } : {}),
  };
}

/** `basePort` if given, else `$ROLLOUT_DEV_PORT_BASE`, else 17233. Throws on a nonsensical value. */
export function resolveDevPortBase(basePort?: number): number {
  const raw = basePort ?? process.env[DEV_PORT_BASE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_DEV_PORT_BASE;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n + DEV_PORT_OFFSETS.ui > 65535) {
    throw new Error(`Invalid dev server base port ${String(raw)} (${DEV_PORT_BASE_ENV}): need an integer in 1024..64535`);
  }
  return n;
}

/**
 * A base port whose base, +10, +20 and +1000 are all free on `host`, chosen at random in 20000..29999 (below
 * Linux's ephemeral range, so clients' outgoing connections do not take them). For tests.
 */
export async function findFreeBasePort(host = '127.0.0.1', attempts = 100): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = 20000 + Math.floor(Math.random() * 9000);
    const ports = Object.values(DEV_PORT_OFFSETS).map((o) => base + o);
    const free = await Promise.all(ports.map((p) => isPortFree(p, host)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`No free base port found on ${host} after ${attempts} attempts`);
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `pid` is a live (non-zombie) process. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Linux: a zombie (exited, not yet reaped) still answers kill(0). Without /proc, trust kill(0).
  const statLine = readTextSync(`/proc/${pid}/stat`);
  if (statLine !== undefined) {
    const close = statLine.lastIndexOf(')');
    const state = statLine.slice(close + 2, close + 3);
    if (state === 'Z' || state === 'X') return false;
  }
  return true;
}

function readTextSync(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The process's command line (Linux /proc), or undefined when unknown. */
function processCmdline(pid: number): string[] | undefined {
  const raw = readTextSync(`/proc/${pid}/cmdline`);
  if (raw === undefined) return undefined;
  return raw.split('\0').filter(Boolean);
}

/** Whether `pid` is alive and (where /proc tells) really is the dev server of this record. */
function isRecordedServerProcess(rec: DevServerRecord): boolean {
  if (!isPidAlive(rec.pid)) return false;
  const cmd = processCmdline(rec.pid);
  if (cmd === undefined) return true; // cannot tell; trust the pid
  return cmd.includes('start-dev') && cmd.includes(String(rec.ports.grpc)) && cmd.includes(rec.dbFile);
}

/** SIGTERM, wait up to `graceMs`, SIGKILL, wait. Resolves once the pid is gone; throws if it never goes. */
async function killAndWait(pid: number, graceMs = STOP_GRACE_MS, exited: () => boolean = () => false): Promise<void> {
  const gone = () => exited() || !isPidAlive(pid);
  if (gone()) return;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  for (const deadline = Date.now() + graceMs; Date.now() < deadline; ) {
    if (gone()) return;
    await sleep(50);
  }
  send('SIGKILL');
  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    if (gone()) return;
    await sleep(50);
  }
  throw new Error(`Temporal dev server (pid ${pid}) did not exit after SIGKILL`);
}

// ---------------------------------------------------------------------------------------------------------------
// Readiness

async function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** One attempt: does the frontend at `address` answer describeNamespace(namespace)? */
export async function devServerAnswers(address: string, namespace = 'default', timeoutMs = 3000): Promise<boolean> {
  const { host, port } = splitAddress(address);
  if (!(await tcpOpen(host, port, Math.min(timeoutMs, 1000)))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.workflowService.describeNamespace({ namespace }),
    );
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Polls until the frontend answers or `timeoutMs` passes. `abort` is checked between attempts and may return a
 * reason to give up early (e.g. the process exited). Returns undefined on success, else the reason.
 */
async function waitUntilAnswering(
  address: string,
  namespace: string,
  timeoutMs: number,
  abort: () => string | undefined,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = abort();
    if (why) return why;
    const left = deadline - Date.now();
    if (left <= 0) return `no answer from ${address} within ${Math.round(timeoutMs / 1000)} s`;
    if (await devServerAnswers(address, namespace, Math.max(500, Math.min(3000, left)))) return undefined;
    const whyAfter = abort();
    if (whyAfter) return whyAfter;
    await sleep(100);
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

function clientHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '[::1]';
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

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

// ---------------------------------------------------------------------------------------------------------------
// start

/** Starts `temporal server start-dev` with every port pinned and waits until its gRPC frontend answers. */
export async function startDevServer(opts: StartDevServerOptions): Promise<DevServerHandle> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const stateDir = path.resolve(opts.stateDir);
  const dbFile = path.resolve(opts.dbFile ?? path.join(stateDir, DEV_SERVER_DB_FILE));
  const logFile = path.resolve(opts.logFile ?? path.join(stateDir, DEV_SERVER_LOG_FILE));
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  if (!opts.headless && opts.uiPort === undefined) throw new Error('startDevServer: uiPort is required unless headless');

  const ports: DevServerPorts = {
    grpc: opts.grpcPort,
    http: opts.httpPort,
    metrics: opts.metricsPort,
    ...(opts.headless ? {} : { ui: opts.uiPort }),
  };
  const named = Object.entries(ports) as [keyof DevServerPorts, number][];
  const seen = new Set<number>();
  for (const [name, port] of named) {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`startDevServer: bad ${name} port ${port}`);
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
    '--log-level',
    'warn',
  ];

  const logStart = await stat(logFile).then((s) => s.size, () => 0);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} ${opts.cliPath} ${args.join(' ')}\n`);
    child = spawn(opts.cliPath, args, {
      cwd: stateDir,
      detached: opts.detached,
      stdio: ['ignore', fd, fd],
      env: process.env,
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

// ---------------------------------------------------------------------------------------------------------------
// ensure / stop (CLI)

function recordPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), DEV_SERVER_RECORD_FILE);
}

/** The record in `<stateDir>/devserver.json`, or undefined if absent or unreadable. */
export async function readDevServerRecord(stateDir: string): Promise<DevServerRecord | undefined> {
  try {
    const rec = JSON.parse(await readFile(recordPath(stateDir), 'utf8')) as DevServerRecord;
    if (typeof rec.pid !== 'number' || typeof rec.address !== 'string' || !rec.ports) return undefined;
    return rec;
  } catch {
    return undefined;
  }
}

async function writeRecord(stateDir: string, rec: DevServerRecord): Promise<void> {
  const file = recordPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n');
  await rename(tmp, file);
}

/** Serialises ensure/stop on one state dir across processes (O_EXCL lock file; stale locks are broken). */
async function withStateLock<T>(stateDir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const lock = path.join(path.resolve(stateDir), LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if ((holder && !isPidAlive(holder)) || age > 2 * timeoutMs) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the lock ${lock} (held by pid ${holder})`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function stopRecorded(stateDir: string): Promise<boolean> {
  const rec = await readDevServerRecord(stateDir);
  if (!rec) return false;
  let stopped = false;
  if (isRecordedServerProcess(rec)) {
    await killAndWait(rec.pid);
    stopped = true;
  }
  await rm(recordPath(stateDir), { force: true });
  return stopped;
}

/**
 * Stops the dev server recorded in `<stateDir>/devserver.json` (if it is still running) and removes the record.
 * Resolves true if a process was stopped.
 */
export async function stopDevServer(stateDir: string): Promise<boolean> {
  await mkdir(path.resolve(stateDir), { recursive: true });
  return withStateLock(stateDir, () => stopRecorded(stateDir));
}

/**
 * For the CLI: reuse the dev server recorded in `<stateDir>/devserver.json` if it is alive, answers and has the
 * wanted ports (a headless one is replaced when a UI is wanted); otherwise start a detached one (log in
 * `<stateDir>/temporal.log`, db in `<stateDir>/temporal.db`) and record it. Ports: base (default 17233 or
 * `$ROLLOUT_DEV_PORT_BASE`) for gRPC, +10 HTTP, +20 metrics, +1000 UI.
 */
export async function ensureDevServer(opts: EnsureDevServerOptions): Promise<EnsuredDevServer> {
  const stateDir = path.resolve(opts.stateDir);
  const base = resolveDevPortBase(opts.basePort);
  const ui = opts.ui ?? true;
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const wanted = devServerPorts(base, ui);
  await mkdir(stateDir, { recursive: true });

  return withStateLock(stateDir, async () => {
    const rec = await readDevServerRecord(stateDir);
    if (rec) {
      const matches =
        rec.ip === ip &&
        rec.namespace === namespace &&
        rec.ports.grpc === wanted.grpc &&
        rec.ports.http === wanted.http &&
        rec.ports.metrics === wanted.metrics &&
        (!ui || rec.ports.ui === wanted.ui);
      if (isRecordedServerProcess(rec)) {
        const why = matches
          ? await waitUntilAnswering(rec.address, rec.namespace, 10_000, () =>
              isRecordedServerProcess(rec) ? undefined : 'the server exited',
            )
          : 'different ports or UI setting requested';
        if (!why) {
          return {
            address: rec.address,
            ...(rec.uiUrl ? { uiUrl: rec.uiUrl } : {}),
            pid: rec.pid,
            namespace: rec.namespace,
            ports: rec.ports,
            dbFile: rec.dbFile,
            logFile: rec.logFile,
            reused: true,
            stop: async () => {
              await stopDevServer(stateDir);
            },
          };
        }
        process.stderr.write(`rollout: restarting the Temporal dev server (pid ${rec.pid}): ${why}\n`);
      }
      await stopRecorded(stateDir);
    }

    const cliPath = opts.cliPath ?? (await findOrInstallTemporalCli(stateDir));
    const server = await startDevServer({
      cliPath,
      stateDir,
      ip,
      grpcPort: wanted.grpc,
      httpPort: wanted.http,
      metricsPort: wanted.metrics,
      ...(wanted.ui !== undefined ? { uiPort: wanted.ui } : {}),
      headless: !ui,
      namespace,
      detached: true,
      logFile: path.join(stateDir, DEV_SERVER_LOG_FILE),
      ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    });
    const record: DevServerRecord = {
      pid: server.pid,
      address: server.address,
      ip,
      namespace,
      ports: server.ports,
      ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      headless: !ui,
      dbFile: server.dbFile,
      logFile: server.logFile,
      cliPath,
      startedAt: new Date().toISOString(),
    };
    try {
      await writeRecord(stateDir, record);
    } catch (e) {
      await server.stop().catch(() => undefined);
      throw e;
    }
    return {
      ...server,
      reused: false,
      stop: async () => {
        await server.stop();
        await rm(recordPath(stateDir), { force: true });
      },
    };
  });
}

/**
 * A throw-away dev server for tests and benchmarks: headless, free ports, a fresh temp state dir that stop()
 * removes. Not detached: it dies with the process that started it.
 */
export async function startScratchDevServer(prefix = 'rollout-temporal-'): Promise<DevServerHandle> {
  const { mkdtemp } = await import('node:fs/promises');
  const os = await import('node:os');
  const stateDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // The pip fallback installs into the project's (gitignored) state dir, so it happens at most once.
  const cliPath = await findOrInstallTemporalCli(path.resolve('.rollout'));
  const ip = '127.0.0.1';
  const used = new Set<number>();
  const port = async () => {
    let p = await getFreePort(ip);
    while (used.has(p)) p = await getFreePort(ip);
    used.add(p);
    return p;
  };
  const server = await startDevServer({
    cliPath,
    stateDir,
    ip,
    grpcPort: await port(),
    httpPort: await port(),
    metricsPort: await port(),
    headless: true,
    detached: false,
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
