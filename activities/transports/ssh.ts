// Runs scripts on targets over SSH (node-ssh / ssh2), one cached connection per target, and on each connection a
// small pool of reusable exec channels (see POOL_LOOP in remoteCommand.ts): a run then does not pay the login
// shell's start-up (~/.bashrc) that sshd runs for every new channel. A pooled channel goes back to the pool only
// after the clean end markers of a request whose caller settled on the command's own outcome; one that was
// detached, cancelled, went stale, errored, or printed anything unexpected is closed. Idle ones close after
// poolIdleMs; beyond poolChannels per connection (and when the server refuses a channel) runs get a fresh channel.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { NodeSSH, type Config } from 'node-ssh';
import type { TargetPlan } from '../../domain/plan';
import { checkHostKey, keyTypeOfBlob, knownKeyTypes } from './knownHosts';
import {
  abortedBeforeStart,
  DEFAULT_RUN_RETENTION_MS,
  followRun,
  MarkerScanner,
  newPoolMarker,
  POOL_LOOP_COMMAND,
  poolRequest,
  shellPath,
  shellQuote,
  type CommandHandle,
  type CommandIO,
} from './remoteCommand';
import { TransportError, type ScriptRequest, type ScriptResult, type Transport } from './types';

export interface SshTransportOptions {
  /** How long the TCP connect + SSH handshake + authentication may take (default 10 000 ms). */
  readyTimeoutMs?: number;
  /** SSH keepalive interval (default 10 000 ms); a connection is dropped after 3 unanswered keepalives. */
  keepaliveIntervalMs?: number;
  /** Grace between SIGTERM and SIGKILL when a run is stopped or times out (default 2000 ms). */
  killGraceMs?: number;
  /**
   * While a run is followed the target answers at least every half second; nothing heard for this long means the
   * connection is lost (default 20 000 ms). The run itself goes on; the caller attaches again.
   */
  staleMs?: number;
  /** Finished runs older than this are removed from a target by its next start (default 7 days). */
  runRetentionMs?: number;
  /** Where privateKeyEnv is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** known_hosts used when a target has none (default ~/.ssh/known_hosts). */
  defaultKnownHostsPath?: string;
  /** TCP_NODELAY on the SSH socket (default true; false only to measure what Nagle's algorithm costs). */
  tcpNoDelay?: boolean;
  /**
   * Reusable exec channels per connection (default 6; 0: a fresh channel for every run). sshd allows 10 sessions
   * per connection (MaxSessions): the rest is left for kill commands, uploads and runs beyond the pool.
   */
  poolChannels?: number;
  /** An idle pooled channel is closed after this long (default 60 000 ms). */
  poolIdleMs?: number;
}

// The parts of ssh2 used here (ssh2 ships no types, and node-ssh re-exports its client untyped).
interface ExecChannel extends Duplex {
  stderr: Readable;
  close(): void;
}
interface Ssh2Client {
  exec(command: string, cb: (err: Error | undefined, channel: ExecChannel) => void): boolean;
  on(event: 'error', fn: (err: Error) => void): this;
  on(event: 'close' | 'end', fn: () => void): this;
  end(): void;
}

interface Connection {
  key: string;
  ssh: NodeSSH;
  client: Ssh2Client;
  closed: boolean;
  /** Exec channels open on it. */
  channels: number;
  /** Opened under trust settings that changed since: closed once its last channel closes. */
  retired: boolean;
  /** Pooled channels waiting for a request (the most recently used last). */
  idle: PoolChannel[];
  /** Pooled channels open on it (idle or busy). */
  pooled: number;
  /** Pooled channels whose caller is done, waiting for their end markers (idle in a moment). */
  draining: number;
  /** Called when a draining channel became idle or was closed. */
  drainWaiters: Array<() => void>;
}

/** One request on a pooled channel. */
interface PoolJob {
  io: CommandIO;
  out: MarkerScanner;
  err: MarkerScanner;
  /** Any byte of this request's output arrived (the target has certainly received it). */
  heard: boolean;
  /** Both end markers are in, nothing after them: the channel is clean. */
  clean: boolean;
  /** io.closed was called. */
  closed: boolean;
  /** How the caller released it: 'reuse' (settled on the command's own outcome) or 'close'. */
  disposed?: 'reuse' | 'close';
  endTimer?: NodeJS.Timeout;
  /** Counted in Connection.draining. */
  draining?: boolean;
}

/** An exec channel running POOL_LOOP_COMMAND. */
interface PoolChannel {
  ch: ExecChannel;
  conn: Connection;
  closed: boolean;
  job?: PoolJob;
  idleTimer?: NodeJS.Timeout;
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host-key algorithms to offer, those whose key type known_hosts holds for the host first (as OpenSSH does). */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const first: string[] = [];
  for (const t of knownTypes) {
    const algos = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algos) if (HOST_KEY_ALGORITHMS.includes(a) && !first.includes(a)) first.push(a);
  }
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

function describe(target: TargetPlan): string {
  return `${target.name} (${target.user}@${target.host}:${target.port})`;
}

/** What decides trust in a connection, read fresh for every run (so a config change applies to the next one). */
export interface TrustMaterial {
  privateKey: string;
  /** known_hosts content when checking strictly, else undefined. */
  knownHosts: string | undefined;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * The cache key of a target's connection: where it goes (name, host, port, user) AND everything that decides trust:
 * the key's source (path or env name) with a hash of the key itself, the known_hosts path with a hash of its
 * content, and the strictness. A change of any of them opens a new connection at the next run; no key material
 * is kept in the key (hashes only).
 */
export function connectionKey(target: TargetPlan, trust?: TrustMaterial): string {
  return JSON.stringify([
    target.name,
    target.host,
    target.port,
    target.user,
    target.privateKeyPath ?? null,
    target.privateKeyPath ? null : (target.privateKeyEnv ?? null),
    trust ? sha256(trust.privateKey) : null,
    target.strictHostKeyChecking !== false,
    target.strictHostKeyChecking !== false ? (target.knownHostsPath ?? null) : null,
    trust?.knownHosts !== undefined ? sha256(trust.knownHosts) : null,
  ]);
}

/** The part of the key that names the destination only (an older connection to it is closed once idle). */
function destinationKey(target: TargetPlan): string {
  return JSON.stringify([target.name, target.host, target.port, target.user]);
}

export class SshTransport implements Transport {
  /** How many SSH connections this transport has opened (for tests and metrics). */
  connectionsOpened = 0;
  /** How many exec channels it has opened (pooled, fresh and kill commands alike). */
  channelsOpened = 0;
  /** How many of those ran the pool loop (pooled channels). */
  pooledChannelsOpened = 0;
  /** How many requests went to a pooled channel that had served one before (for tests and metrics). */
  channelReuses = 0;
  private readonly conns = new Map<string, Promise<Connection>>();
  /** Destination → the connection key of its latest run (a key or known_hosts change retires the old one). */
  private readonly current = new Map<string, string>();
  private readonly readyTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly killGraceMs: number;
  private readonly staleMs: number;
  private readonly runRetentionMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly defaultKnownHostsPath: string;
  private readonly tcpNoDelay: boolean;
  private readonly poolChannels: number;
  private readonly poolIdleMs: number;

  constructor(opts: SshTransportOptions = {}) {
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
    this.keepaliveIntervalMs = opts.keepaliveIntervalMs ?? 10_000;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.staleMs = opts.staleMs ?? 20_000;
    this.runRetentionMs = opts.runRetentionMs ?? DEFAULT_RUN_RETENTION_MS;
    this.env = opts.env ?? process.env;
    this.defaultKnownHostsPath = opts.defaultKnownHostsPath ?? join(homedir(), '.ssh', 'known_hosts');
    this.tcpNoDelay = opts.tcpNoDelay ?? true;
    this.poolChannels = Math.max(0, Math.floor(opts.poolChannels ?? 6));
    this.poolIdleMs = opts.poolIdleMs ?? 60_000;
  }

  async run(req: ScriptRequest): Promise<ScriptResult> {
    const { target } = req;
    if (req.signal?.aborted) return abortedBeforeStart();
    return followRun(
      {
        describe: describe(target),
        start: (command, stdin, io) => this.startCommand(target, command, stdin, io),
        runQuick: (command) => this.runQuick(target, command),
      },
      req,
      { killGraceMs: this.killGraceMs, staleMs: this.staleMs, retentionMs: this.runRetentionMs },
    );
  }

  /**
   * Starts `command` with `stdin` on the target: on a pooled channel of its cached connection when one is free or
   * can be opened, else on a fresh exec channel.
   */
  private async startCommand(
    target: TargetPlan,
    command: string,
    stdin: string,
    io: CommandIO,
  ): Promise<CommandHandle> {
    if (this.poolChannels > 0) {
      const marker = newPoolMarker();
      const request = poolRequest(marker, command, stdin);
      if (request) {
        const conn = await this.connection(target);
        const pc = await this.takePoolChannel(conn);
        if (pc) return this.runPooled(target, pc, marker, request, command, stdin, io);
      }
    }
    return this.startFresh(target, command, stdin, io);
  }

  /**
   * An idle pooled channel of `conn`, or a new one while the connection has fewer than poolChannels; undefined
   * when the pool is full or the server refuses a channel (the caller then opens a fresh one, as before the pool).
   */
  private async takePoolChannel(conn: Connection): Promise<PoolChannel | undefined> {
    // A run that just ended leaves its channel draining for a moment (its end markers follow the outcome): the
    // next run waits for it briefly rather than opening another channel.
    if (conn.idle.length === 0 && conn.draining > 0) {
      await new Promise<void>((resolve) => {
        conn.drainWaiters.push(resolve);
        setTimeout(resolve, 250).unref();
      });
    }
    while (conn.idle.length > 0) {
      const pc = conn.idle.pop()!;
      if (pc.idleTimer) clearTimeout(pc.idleTimer);
      pc.idleTimer = undefined;
      // (closed meanwhile: its close event removed it, or is about to)
      if (!pc.closed && !conn.closed && pc.ch.writable) {
        this.channelReuses++;
        return pc;
      }
    }
    if (conn.closed || conn.retired || conn.pooled >= this.poolChannels) return undefined;
    conn.pooled++;
    let ch: ExecChannel;
    try {
      ch = await this.exec(conn, POOL_LOOP_COMMAND);
    } catch {
      conn.pooled--;
      return undefined;
    }
    this.pooledChannelsOpened++;
    const pc: PoolChannel = { ch, conn, closed: false };
    const gone = (err?: Error): void => {
      if (pc.closed && !pc.job) return;
      if (!pc.closed) {
        pc.closed = true;
        conn.pooled--;
        const at = conn.idle.indexOf(pc);
        if (at >= 0) conn.idle.splice(at, 1);
        if (pc.idleTimer) clearTimeout(pc.idleTimer);
      }
      const job = pc.job;
      pc.job = undefined;
      if (job && !job.clean) this.endJob(job, err ?? undefined);
      if (job) this.drained(conn, job);
    };
    ch.on('data', (c: Buffer) => {
      if (pc.job) {
        pc.job.heard = true;
        pc.job.out.push(c);
      } else this.closePooled(pc); // output from an idle channel: not ours to interpret, never reuse it
    });
    ch.stderr.on('data', (c: Buffer) => {
      if (pc.job) {
        pc.job.heard = true;
        pc.job.err.push(c);
      } else this.closePooled(pc);
    });
    ch.on('close', () => gone());
    ch.on('error', (err: Error) => gone(err));
    return pc;
  }

  /** Sends one request over a pooled channel; its output reaches `io` up to the end markers. */
  private runPooled(
    target: TargetPlan,
    pc: PoolChannel,
    marker: string,
    request: Buffer,
    command: string,
    stdin: string,
    io: CommandIO,
  ): CommandHandle {
    let inner: CommandHandle | undefined;
    let released = false;
    const job: PoolJob = {
      // Replaced below (the scanners need the job).
      io,
      out: undefined as unknown as MarkerScanner,
      err: undefined as unknown as MarkerScanner,
      heard: false,
      clean: false,
      closed: false,
    };
    let outDone = false;
    let errDone = false;
    const ended = (rest: Buffer): void => {
      if (rest.length > 0) {
        // Output after the marker: the channel is not in step any more.
        return this.closePooled(pc);
      }
      if (!outDone || !errDone) return;
      job.clean = true;
      if (job.endTimer) clearTimeout(job.endTimer);
      if (job.disposed === 'reuse') this.releasePooled(pc, job);
      else if (job.disposed === undefined)
        this.endJob(job); // the command ended without settling the call
      else this.closePooled(pc);
    };
    job.out = new MarkerScanner(
      marker,
      (c) => {
        if (!job.closed) io.stdout(c);
      },
      (rest) => {
        outDone = true;
        ended(rest);
      },
    );
    job.err = new MarkerScanner(
      marker,
      (c) => {
        if (!job.closed) io.stderr(c);
      },
      (rest) => {
        errDone = true;
        ended(rest);
      },
    );
    // A pooled channel that died before this request produced a single byte: send the same request again on a
    // fresh channel. Safe whether or not the target received it: it is the same command with the same run id, and
    // a start claims the run with `mkdir` (a second start of that id only attaches to it; it never starts the
    // script twice), while an attach only reads. A channel that died after output arrived is reported as lost
    // instead (the caller attaches again), exactly like a fresh channel.
    job.io = {
      stdout: io.stdout,
      stderr: io.stderr,
      closed: (err) => {
        if (!job.heard && !released) {
          this.startFresh(target, command, stdin, io).then(
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
    };
    pc.job = job;
    try {
      pc.ch.write(request);
    } catch (err) {
      // Nothing went out: the same request on a fresh channel (see above).
      pc.job = undefined;
      this.closePooled(pc);
      job.io.closed(err as Error);
    }
    const conn = pc.conn;
    return {
      dispose: (reusable) => {
        if (released) return;
        released = true;
        if (inner) return inner.dispose(reusable);
        if (pc.job !== job) return;
        job.disposed = reusable ? 'reuse' : 'close';
        // Detached, cancelled, stale or failed: the channel is closed (the follower on the target ends with it).
        if (!reusable) return this.closePooled(pc);
        if (job.clean) return this.releasePooled(pc, job);
        // The outcome is in; the command's end (and the end markers) follows at once. Not within 10 s: close it.
        job.draining = true;
        conn.draining++;
        job.endTimer = setTimeout(() => this.closePooled(pc), 10_000);
        job.endTimer.unref?.();
      },
      broken: () => {
        if (inner) return inner.broken();
        // The caller reports the loss itself (no quiet retry on a fresh channel from the close that follows).
        if (pc.job === job && job.disposed === undefined) job.disposed = 'close';
        this.closePooled(pc);
        this.forget(conn);
      },
    };
  }

  /** Pooled channels open (idle or busy) and idle, over all cached connections (for tests and metrics). */
  async pooledChannels(): Promise<{ open: number; idle: number }> {
    let open = 0;
    let idle = 0;
    for (const p of this.conns.values()) {
      const conn = await p.catch(() => undefined);
      if (!conn || conn.closed) continue;
      open += conn.pooled;
      idle += conn.idle.length;
    }
    return { open, idle };
  }

  /** Tells the caller the command ended (once), unless it already settled. */
  private endJob(job: PoolJob, err?: Error): void {
    if (job.closed) return;
    job.closed = true;
    if (job.endTimer) clearTimeout(job.endTimer);
    if (job.disposed === undefined) job.io.closed(err);
  }

  /** A draining channel is done draining (idle or closed): wake whoever waits for one. */
  private drained(conn: Connection, job: PoolJob): void {
    if (!job.draining) return;
    job.draining = false;
    conn.draining--;
    const waiters = conn.drainWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Back to the idle list (a clean end marker came and the caller is done), closed after poolIdleMs unused. */
  private releasePooled(pc: PoolChannel, job: PoolJob): void {
    job.closed = true;
    if (pc.job === job) pc.job = undefined;
    const conn = pc.conn;
    if (pc.closed || conn.closed || conn.retired) {
      this.closePooled(pc);
      return this.drained(conn, job);
    }
    conn.idle.push(pc);
    pc.idleTimer = setTimeout(() => this.closePooled(pc), this.poolIdleMs);
    pc.idleTimer.unref?.();
    this.drained(conn, job);
  }

  private closePooled(pc: PoolChannel): void {
    const at = pc.conn.idle.indexOf(pc);
    if (at >= 0) pc.conn.idle.splice(at, 1);
    if (pc.idleTimer) clearTimeout(pc.idleTimer);
    try {
      pc.ch.close();
    } catch {
      // already closed
    }
  }

  /** Opens an exec channel for `command` on the target's cached connection and feeds it `stdin`. */
  private async startFresh(target: TargetPlan, command: string, stdin: string, io: CommandIO): Promise<CommandHandle> {
    // A cached connection may have died silently since its last use: if the exec cannot be opened on it,
    // drop it and try once more on a fresh one.
    let conn = await this.connection(target);
    let channel: ExecChannel;
    try {
      channel = await this.exec(conn, command);
    } catch {
      this.forget(conn);
      conn = await this.connection(target);
      try {
        channel = await this.exec(conn, command);
      } catch (err) {
        this.forget(conn);
        throw new TransportError(
          'unreachable',
          `${describe(target)}: cannot start the script: ${(err as Error).message}`,
          true,
        );
      }
    }
    let done = false;
    const closed = (err?: Error): void => {
      if (done) return;
      done = true;
      io.closed(err);
    };
    channel.on('data', (c: Buffer) => io.stdout(c));
    channel.stderr.on('data', (c: Buffer) => io.stderr(c));
    channel.on('close', () => closed());
    channel.on('error', (err: Error) => closed(err));
    channel.end(stdin);
    const used = conn;
    return {
      dispose: () => {
        try {
          channel.close();
        } catch {
          // already closed
        }
      },
      broken: () => this.forget(used),
    };
  }

  /** Opens an exec channel, counted on its connection until it closes. */
  private async exec(conn: Connection, command: string): Promise<ExecChannel> {
    const ch = await exec(conn.client, command);
    this.channelsOpened++;
    conn.channels++;
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      conn.channels--;
      if (conn.retired && conn.channels === 0) this.forget(conn);
    };
    ch.once('close', done);
    ch.once('error', done);
    return ch;
  }

  /**
   * Uploads a worker file over SFTP to `remotePath` under the target's workdir (its directory created first; the
   * workdir is resolved to an absolute path by the target's shell, since SFTP expands neither `~` nor relative
   * paths the way the scripts see them).
   */
  async putFile(target: TargetPlan, localPath: string, remotePath: string): Promise<void> {
    const conn = await this.connection(target);
    const dir = remotePath.includes('/') ? remotePath.slice(0, remotePath.lastIndexOf('/')) : '.';
    const wd = shellPath(target.workdir);
    const out = await execOutput(
      conn.client,
      `mkdir -p -- ${wd} && cd -- ${wd} && mkdir -p -- ${shellQuote(dir)} && pwd -P`,
    ).catch((err: unknown) => {
      this.forget(conn);
      throw new TransportError('unreachable', `${describe(target)}: cannot prepare the upload: ${String(err)}`, true);
    });
    const abs = out.trim();
    if (!abs.startsWith('/')) {
      throw new TransportError('unreachable', `${describe(target)}: cannot resolve the workdir for the upload`, true);
    }
    try {
      await conn.ssh.putFile(localPath, `${abs}/${remotePath}`);
    } catch (err) {
      throw new TransportError(
        'unreachable',
        `${describe(target)}: SFTP upload of ${localPath} failed: ${(err as Error).message}`,
        true,
      );
    }
  }

  /** Runs a short command (the kill command) on its own exec channel; never rejects. */
  private async runQuick(target: TargetPlan, command: string): Promise<void> {
    try {
      const conn = await this.connection(target);
      const ch = await this.exec(conn, command);
      await new Promise<void>((resolve) => {
        ch.on('close', () => resolve());
        ch.on('error', () => resolve());
        ch.resume();
        ch.stderr.resume();
        ch.end();
      });
    } catch {
      // unreachable: the caller finds out while following
    }
  }

  /** Key and known_hosts as they are now (TransportError key-missing / host-key-unknown when unreadable). */
  private async trustMaterial(target: TargetPlan): Promise<TrustMaterial> {
    if (target.transport !== 'ssh') {
      throw new TransportError('other', `${describe(target)}: transport is ${target.transport}, not ssh`, false);
    }
    const privateKey = await this.privateKey(target);
    let knownHosts: string | undefined;
    if (target.strictHostKeyChecking !== false) {
      const path = target.knownHostsPath ?? this.defaultKnownHostsPath;
      try {
        knownHosts = await readFile(path, 'utf8');
      } catch (err) {
        throw new TransportError(
          'host-key-unknown',
          `${describe(target)}: cannot read known_hosts ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
            'add the host key or turn strictHostKeyChecking off',
          false,
        );
      }
    }
    return { privateKey, knownHosts };
  }

  /** The cached connection for a target, opened (again) if needed. */
  private async connection(target: TargetPlan): Promise<Connection> {
    const trust = await this.trustMaterial(target);
    const key = connectionKey(target, trust);
    const dest = destinationKey(target);
    const previous = this.current.get(dest);
    this.current.set(dest, key);
    if (previous !== undefined && previous !== key) this.retire(previous);
    const cached = this.conns.get(key);
    if (cached) {
      const conn = await cached.catch(() => undefined);
      if (conn && !conn.closed) return conn;
      if (this.conns.get(key) === cached) this.conns.delete(key);
    }
    // Another caller may have started a fresh connect meanwhile.
    const again = this.conns.get(key);
    if (again) return again;
    const p = this.connect(target, key, trust);
    this.conns.set(key, p);
    p.catch(() => {
      if (this.conns.get(key) === p) this.conns.delete(key);
    });
    return p;
  }

  /**
   * A connection opened under trust settings that no longer hold: no new run uses it, and it is closed as soon as
   * no channel is open on it (a script followed on it keeps its channel until it ends).
   */
  private retire(key: string): void {
    const cached = this.conns.get(key);
    if (!cached) return;
    this.conns.delete(key);
    void cached.then(
      (conn) => {
        conn.retired = true;
        for (const pc of [...conn.idle]) this.closePooled(pc);
        if (conn.channels === 0) this.forget(conn);
      },
      () => undefined,
    );
  }

  private forget(conn: Connection): void {
    conn.closed = true;
    const cached = this.conns.get(conn.key);
    if (cached) {
      void cached.then(
        (c) => {
          if (c === conn && this.conns.get(conn.key) === cached) this.conns.delete(conn.key);
        },
        () => undefined,
      );
    }
    try {
      conn.client.end();
    } catch {
      // ignore
    }
  }

  private async privateKey(target: TargetPlan): Promise<string> {
    if (target.privateKeyPath) {
      try {
        return await readFile(target.privateKeyPath, 'utf8');
      } catch (err) {
        throw new TransportError(
          'key-missing',
          `${describe(target)}: cannot read private key ${target.privateKeyPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          false,
        );
      }
    }
    if (target.privateKeyEnv) {
      let v = this.env[target.privateKeyEnv];
      if (!v || v.trim() === '') {
        throw new TransportError(
          'key-missing',
          `${describe(target)}: environment variable ${target.privateKeyEnv} (private key) is not set on the worker`,
          false,
        );
      }
      // Keys stored in a one-line variable often have their newlines written as \n.
      if (!v.includes('\n') && v.includes('\\n')) v = v.replace(/\\n/g, '\n');
      return v;
    }
    throw new TransportError(
      'key-missing',
      `${describe(target)}: no privateKeyPath or privateKeyEnv configured`,
      false,
    );
  }

  private async connect(target: TargetPlan, key: string, trust: TrustMaterial): Promise<Connection> {
    const { privateKey, knownHosts } = trust;

    // The TCP connection is opened here, with TCP_NODELAY, and handed to ssh2 (which never sets it): without it
    // every small SSH packet waits for Nagle + delayed ACK, ~40 ms a round trip (measured: a bare exec on a warm
    // connection 88 ms -> 2.7 ms with it). The handshake gets what is left of the ready timeout.
    const started = performance.now();
    const sock = await openSocket(target.host, target.port, this.readyTimeoutMs, this.tcpNoDelay).catch(
      (err: unknown) => {
        throw connectError(target, err, this.readyTimeoutMs);
      },
    );
    let hostKeyError: TransportError | undefined;
    const config: Config = {
      sock,
      username: target.user,
      privateKey,
      readyTimeout: Math.max(1, Math.round(this.readyTimeoutMs - (performance.now() - started))),
      keepaliveInterval: this.keepaliveIntervalMs,
      keepaliveCountMax: 3,
    };
    if (knownHosts !== undefined) {
      const text = knownHosts;
      config.algorithms = { serverHostKey: hostKeyAlgorithms(knownKeyTypes(text, target.host, target.port)) };
      config.hostVerifier = (blob: Buffer): boolean => {
        const type = keyTypeOfBlob(blob) ?? 'unknown';
        const verdict = checkHostKey(text, target.host, target.port, type, blob);
        if (verdict === 'match') return true;
        const fp = `${type} SHA256:${fingerprint(blob)}`;
        hostKeyError =
          verdict === 'unknown'
            ? new TransportError(
                'host-key-unknown',
                `${describe(target)}: host key ${fp} is not in known_hosts; add it (ssh-keyscan) before deploying`,
                false,
              )
            : new TransportError(
                'host-key-mismatch',
                verdict === 'revoked'
                  ? `${describe(target)}: host key ${fp} is marked @revoked in known_hosts`
                  : `${describe(target)}: HOST KEY CHANGED: the server presented ${fp}, which differs from known_hosts ` +
                      '(possible man-in-the-middle, or the server was reinstalled)',
                false,
              );
        return false;
      };
    }

    const ssh = new NodeSSH();
    try {
      await ssh.connect(config);
    } catch (err) {
      try {
        ssh.dispose();
      } catch {
        // ignore
      }
      sock.destroy();
      throw hostKeyError ?? connectError(target, err, this.readyTimeoutMs);
    }
    const client = ssh.connection as unknown as Ssh2Client | null;
    if (!client)
      throw new TransportError('unreachable', `${describe(target)}: connection closed right after login`, true);
    this.connectionsOpened++;
    const conn: Connection = {
      key,
      ssh,
      client,
      closed: false,
      channels: 0,
      retired: false,
      idle: [],
      pooled: 0,
      draining: 0,
      drainWaiters: [],
    };
    const onGone = (): void => {
      conn.closed = true;
    };
    client.on('error', onGone); // without a listener an 'error' after login would crash the worker
    client.on('end', onGone);
    client.on('close', onGone);
    return conn;
  }

  async close(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    for (const p of all) {
      const conn = await p.catch(() => undefined);
      if (!conn) continue;
      conn.closed = true;
      try {
        conn.ssh.dispose();
      } catch {
        // ignore
      }
    }
  }
}

function fingerprint(blob: Buffer): string {
  return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** A TCP connection to host:port (TCP_NODELAY on by default), or the socket error / a client-timeout after `timeoutMs`. */
export function openSocket(host: string, port: number, timeoutMs: number, noDelay = true): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const sock = tcpConnect({ host, port, noDelay });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error('Timed out while connecting'), { level: 'client-timeout' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      // ssh2 adds its own error handling; until it does, an error must not crash the worker (the handshake then
      // fails within the ready timeout).
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
  });
}

function exec(client: Ssh2Client, command: string): Promise<ExecChannel> {
  return new Promise<ExecChannel>((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Runs a short command and returns its stdout; rejects on a non-zero exit (with its stderr). */
async function execOutput(client: Ssh2Client, command: string): Promise<string> {
  const ch = await exec(client, command);
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    let code: number | null = null;
    ch.on('data', (c: Buffer) => (out += c.toString()));
    ch.stderr.on('data', (c: Buffer) => (err += c.toString()));
    ch.on('exit', (c: number | null) => (code = c));
    ch.on('close', () => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `exit ${code}`))));
    ch.on('error', reject);
    ch.end();
  });
}

/** Turns an ssh2/node-ssh/socket connect failure into a readable TransportError. */
export function connectError(target: TargetPlan, err: unknown, readyTimeoutMs: number): TransportError {
  const e = err as { code?: string; level?: string; message?: string };
  const code = e?.code;
  const msg = e?.message ?? String(err);
  const who = describe(target);
  if (code === 'ECONNREFUSED') {
    return new TransportError(
      'connection-refused',
      `${who}: connection refused (is sshd running on port ${target.port}?)`,
      true,
    );
  }
  if (e?.level === 'client-authentication') {
    return new TransportError(
      'auth-failed',
      `${who}: authentication failed: the server did not accept the key for user ${target.user}`,
      false,
    );
  }
  if (e?.level === 'client-timeout' || (code === 'ETIMEDOUT' && msg !== 'No response from server')) {
    return new TransportError('connect-timeout', `${who}: no SSH handshake within ${readyTimeoutMs} ms`, true);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'EADDRNOTAVAIL') {
    return new TransportError('unreachable', `${who}: host unreachable (${code})`, true);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TransportError(
      'unreachable',
      `${who}: cannot resolve host name ${target.host} (${code})`,
      code === 'EAI_AGAIN',
    );
  }
  if (/privateKey|private key|Cannot parse/i.test(msg)) {
    return new TransportError('key-missing', `${who}: the private key cannot be used: ${msg}`, false);
  }
  if (msg === 'No response from server') {
    return new TransportError('unreachable', `${who}: the server closed the connection before login`, true);
  }
  return new TransportError('other', `${who}: cannot connect: ${msg}${code ? ` (${code})` : ''}`, true);
}
