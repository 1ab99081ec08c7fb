// A production-shaped Temporal for the cluster tests: the real server (built from its Go module, cached by
// version), on a PostgreSQL cluster this file owns, with mTLS on the frontend (certificates made with openssl).
// Used by test/cluster/globalSetup.ts (start, stop) and by the restart test (kill and start the server again).
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';

const DEPLOY_DYNAMIC_CONFIG = fileURLToPath(new URL('../../deploy/temporal/dynamicconfig.yaml', import.meta.url));

const execFileP = promisify(execFile);
/** Debian's PostgreSQL binaries (the newest installed major version; 15 on the machines this was checked on). */
const PG_BIN = pgBinDir();
const SETPRIV = '/usr/bin/setpriv';
/** PostgreSQL refuses to run as root: as root, the cluster runs as this user (nobody/nogroup on Debian). */
const PG_UID = 65534;
const PG_GID = 65534;
const MODULE = 'go.temporal.io/server';

function pgBinDir(root = '/usr/lib/postgresql'): string {
  const majors = existsSync(root)
    ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'initdb')))
    : [];
  const newest = majors.map(Number).sort((a, b) => b - a)[0];
  return path.join(root, String(newest ?? 15), 'bin');
}

export interface ServerBinaries {
  dir: string;
  server: string;
  sql: string;
  /** `<dir>/schema/postgresql/v12` (copied from the module, so a cached build needs no Go at all). */
  schemaDir: string;
  /** True when this call built the binaries (false: reused from the cache). */
  built: boolean;
  ms: number;
}

/**
 * The server and SQL tool binaries for `version`, built with `go install` into `<cacheRoot>/<version>/` the first
 * time and reused afterwards (Go's build and module caches make a rebuild after a cache wipe fast too).
 */
export async function ensureServerBinaries(
  version: string,
  cacheRoot: string,
  log: (line: string) => void = () => undefined,
): Promise<ServerBinaries> {
  const t0 = Date.now();
  const dir = path.resolve(cacheRoot, version);
  const server = path.join(dir, 'server');
  const sql = path.join(dir, 'sql');
  const schemaDir = path.join(dir, 'schema', 'postgresql', 'v12');
  let built = false;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(server) || !existsSync(sql)) {
    log(`building the Temporal server ${version} from ${MODULE} (go install; minutes on a cold cache) into ${dir}`);
    const gobin = path.join(dir, `.building-${process.pid}`);
    rmSync(gobin, { recursive: true, force: true });
    try {
      await execFileP('go', ['install', `${MODULE}/cmd/server@${version}`, `${MODULE}/cmd/tools/sql@${version}`], {
        env: { ...process.env, GOBIN: gobin, GOFLAGS: process.env.GOFLAGS ?? '' },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (e) {
      const err = e as Error & { stderr?: string; code?: string };
      if (err.code === 'ENOENT')
        throw new Error(`building the Temporal server ${version} needs Go (>= 1.25.8) on PATH: https://go.dev/dl/`);
      throw new Error(
        `go install of the Temporal server ${version} failed: ${err.stderr?.slice(-4000) ?? err.message}`,
      );
    }
    // Moved into place only when complete, so an interrupted build is never mistaken for a cached one.
    renameSync(path.join(gobin, 'sql'), sql);
    renameSync(path.join(gobin, 'server'), server);
    rmSync(gobin, { recursive: true, force: true });
    built = true;
  }
  if (!existsSync(path.join(schemaDir, 'temporal', 'versioned'))) {
    const { stdout } = await execFileP('go', ['mod', 'download', '-json', `${MODULE}@${version}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
    const tmp = `${schemaDir}.tmp-${process.pid}`;
    cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), tmp, { recursive: true });
    makeWritable(tmp); // the module cache is read-only; the copy need not be
    renameSync(tmp, schemaDir);
  }
  return { dir, server, sql, schemaDir, built, ms: Date.now() - t0 };
}

function makeWritable(p: string): void {
  chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) makeWritable(path.join(p, e));
}

/** A free TCP port below 32768 (membership ports are stored as a PostgreSQL smallint). */
export async function freeLowPort(used: Set<number>, host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (used.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    });
    if (ok) {
      used.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32768');
}

// ---------------------------------------------------------------------------------------------------- PostgreSQL

export interface Postgres {
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

function pgCommand(bin: string, args: string[]): [string, string[]] {
  return asRoot
    ? [SETPRIV, [`--reuid=${PG_UID}`, `--regid=${PG_GID}`, '--clear-groups', path.join(PG_BIN, bin), ...args]]
    : [path.join(PG_BIN, bin), args];
}

async function runPg(bin: string, args: string[], cwd: string): Promise<string> {
  const [cmd, argv] = pgCommand(bin, args);
  try {
    const { stdout } = await execFileP(cmd, argv, {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${err.stderr || err.stdout || err.message}`);
  }
}

/** A PostgreSQL cluster of its own in `<dir>/pg`, on a free port; user `temporal`, trust auth (tests only). */
export async function startPostgres(dir: string, used: Set<number>): Promise<Postgres> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL is not installed (${PG_BIN}/initdb missing): apt-get install postgresql`);
  }
  const pgDir = path.join(dir, 'pg');
  const dataDir = path.join(pgDir, 'data');
  mkdirSync(pgDir, { recursive: true });
  if (asRoot) {
    // The cluster's user must reach its directory (mkdtemp makes 0700 directories).
    chmodSync(dir, 0o755);
    chownSync(pgDir, PG_UID, PG_GID);
  }
  await runPg(
    'initdb',
    ['-D', dataDir, '-U', 'temporal', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    pgDir,
  );
  const port = await freeLowPort(used);
  // Durability against a crash of PostgreSQL itself is not what these tests are about (the Temporal server is what
  // gets killed; PostgreSQL keeps running), so fsync is off for speed.
  const opts = `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await runPg(
    'pg_ctl',
    ['-D', dataDir, '-l', path.join(pgDir, 'postgres.log'), '-o', opts, '-w', '-t', '60', 'start'],
    pgDir,
  );
  return {
    port,
    dataDir,
    async stop() {
      await runPg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], pgDir).catch(() => undefined);
    },
  };
}

/** Creates `temporal` and `temporal_visibility` and brings both schemas to the module's latest version. */
export async function createSchemas(bin: ServerBinaries, pgPort: number): Promise<void> {
  for (const [db, sub] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(pgPort),
      '-u',
      'temporal',
      '--pw',
      'temporal',
      '--db',
      db,
    ];
    for (const cmd of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', path.join(bin.schemaDir, sub, 'versioned')],
    ]) {
      try {
        await execFileP(bin.sql, [...base, ...cmd], { maxBuffer: 16 * 1024 * 1024 });
      } catch (e) {
        const err = e as Error & { stderr?: string; stdout?: string };
        throw new Error(`temporal sql tool ${cmd[0]} on ${db} failed: ${err.stderr || err.stdout || err.message}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------- mTLS

export interface Certs {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1 (subjectAltName IP) and a client certificate, all ECDSA P-256. */
export async function makeCerts(dir: string): Promise<Certs> {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => path.join(dir, f);
  const openssl = async (args: string[]) => {
    try {
      await execFileP('openssl', args, { cwd: dir });
    } catch (e) {
      throw new Error(
        `openssl ${args[0]} failed: ${(e as Error & { stderr?: string }).stderr ?? (e as Error).message}`,
      );
    }
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '7',
    '-subj',
    '/CN=rollout test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const leaf = async (name: string, cn: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext);
    await openssl(['req', ...newKey, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${name}.pem`),
      '-days',
      '7',
      '-extfile',
      p(`${name}.ext`),
    ]);
  };
  const common =
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
  await leaf(
    'server',
    '127.0.0.1',
    `${common}subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n`,
  );
  await leaf('client', 'rollout-test-client', `${common}extendedKeyUsage=clientAuth\n`);
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}

// -------------------------------------------------------------------------------------------------------- server

/** How to (re)start the server process; serializable, so a test file can restart what globalSetup started. */
export interface ServerSpec {
  bin: string;
  args: string[];
  root: string;
  logFile: string;
  pidFile: string;
  address: string;
  certs: Certs;
}

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  membership: { frontend: number; history: number; matching: number; worker: number };
}

export async function allocateServerPorts(used: Set<number>): Promise<ServerPorts> {
  const next = () => freeLowPort(used);
  return {
    frontend: await next(),
    frontendHttp: await next(),
    history: await next(),
    matching: await next(),
    worker: await next(),
    membership: { frontend: await next(), history: await next(), matching: await next(), worker: await next() },
  };
}

/** Writes `<root>/config/development.yaml` (all four services, PostgreSQL, mTLS frontend) and the dynamic config. */
export function writeServerConfig(
  root: string,
  o: { bin: string; pgPort: number; ports: ServerPorts; certs: Certs; logFile: string },
): ServerSpec {
  const { ports, certs } = o;
  const sql = (db: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: db,
      connectAddr: `127.0.0.1:${o.pgPort}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: 'temporal',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const clientTls = { serverName: '127.0.0.1', rootCaFiles: [certs.caCert] };
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': sql('temporal', 20), 'postgres-visibility': sql('temporal_visibility', 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      tls: {
        frontend: {
          server: {
            certFile: certs.serverCert,
            keyFile: certs.serverKey,
            requireClientAuth: true,
            clientCaFiles: [certs.caCert],
          },
          client: clientTls,
        },
        // The server's own system workers connect to the frontend too, so they need a client certificate.
        systemWorker: { certFile: certs.clientCert, keyFile: certs.clientKey, client: clientTls },
      },
    },
    services: {
      frontend: service(ports.frontend, ports.membership.frontend, { httpPort: ports.frontendHttp }),
      history: service(ports.history, ports.membership.history),
      matching: service(ports.matching, ports.membership.matching),
      worker: service(ports.worker, ports.membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: 'config/dynamicconfig/development-sql.yaml', pollInterval: '10s' },
  };
  mkdirSync(path.join(root, 'config', 'dynamicconfig'), { recursive: true });
  writeFileSync(path.join(root, 'config', 'development.yaml'), stringify(config));
  writeFileSync(
    path.join(root, 'config', 'dynamicconfig', 'development-sql.yaml'),
    // The same dynamic config as production (deploy/temporal/dynamicconfig.yaml), plus the ID length limit.
    stringify({
      ...(parse(readFileSync(DEPLOY_DYNAMIC_CONFIG, 'utf8')) as Record<string, unknown>),
      'limit.maxIDLength': [{ value: 255, constraints: {} }],
    }),
  );
  return {
    bin: o.bin,
    args: ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
    root,
    logFile: o.logFile,
    pidFile: path.join(root, 'server.pid'),
    address: `127.0.0.1:${ports.frontend}`,
    certs,
  };
}

/** Starts the server process (detached, output to the log file) and records its pid; waits until it serves. */
export async function startServerProcess(spec: ServerSpec, timeoutMs = 90_000): Promise<number> {
  const fd = openSync(spec.logFile, 'a');
  const child = spawn(spec.bin, spec.args, { cwd: spec.root, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${spec.bin}`);
  writeFileSync(spec.pidFile, String(pid));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited ${code ?? signal}`));
  await waitServing(spec, timeoutMs, () => exited);
  return pid;
}

/** SIGKILLs the recorded server process and waits until it is gone. */
export async function killServerProcess(spec: ServerSpec, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!existsSync(spec.pidFile)) return;
  const pid = Number(readFileSync(spec.pidFile, 'utf8'));
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`server pid ${pid} did not exit after ${signal}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped by its parent) still answers signal 0: look at its state.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** A client connection with the test client certificate. */
export function mtlsConnect(spec: Pick<ServerSpec, 'address' | 'certs'>, connectTimeoutMs = 5000): Promise<Connection> {
  return Connection.connect({
    address: spec.address,
    connectTimeout: connectTimeoutMs,
    tls: {
      serverNameOverride: 'localhost',
      serverRootCACertificate: readFileSync(spec.certs.caCert),
      clientCertPair: { crt: readFileSync(spec.certs.clientCert), key: readFileSync(spec.certs.clientKey) },
    },
  });
}

/** Waits until the frontend answers over mTLS and namespace `default`, if it exists, serves visibility. */
async function waitServing(
  spec: ServerSpec,
  timeoutMs: number,
  exited: () => string | undefined,
  namespace?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(`the Temporal server ${gone}; log tail:\n${logTail(spec.logFile)}`);
    try {
      const connection = await mtlsConnect(spec, 2000);
      try {
        await connection.workflowService.getSystemInfo({});
        if (namespace) await new Client({ connection, namespace }).workflow.count();
        return;
      } finally {
        await connection.close();
      }
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `the Temporal server did not serve within ${timeoutMs} ms (${last}); log tail:\n${logTail(spec.logFile)}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until namespace `namespace` is usable (the frontend's namespace cache has it). */
export function waitNamespace(spec: ServerSpec, namespace: string, timeoutMs = 60_000): Promise<void> {
  return waitServing(spec, timeoutMs, () => undefined, namespace);
}

export function logTail(file: string, chars = 3000): string {
  try {
    const s = readFileSync(file, 'utf8');
    return s.slice(-chars);
  } catch {
    return '(no log)';
  }
}

/** `temporal operator namespace create` through the CLI, over mTLS, retried while the server warms up. */
export async function createNamespace(
  cli: string,
  spec: ServerSpec,
  namespace: string,
  retention: string,
  timeoutMs = 60_000,
): Promise<void> {
  const args = [
    'operator',
    'namespace',
    'create',
    '-n',
    namespace,
    '--retention',
    retention,
    '--address',
    spec.address,
    '--tls-ca-path',
    spec.certs.caCert,
    '--tls-cert-path',
    spec.certs.clientCert,
    '--tls-key-path',
    spec.certs.clientKey,
  ];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await execFileP(cli, args, { env: { ...process.env, HOME: os.tmpdir(), TEMPORAL_CONFIG_FILE: '/nonexistent' } });
      return;
    } catch (e) {
      const msg = (e as Error & { stderr?: string }).stderr ?? (e as Error).message;
      if (/already (exists|registered)/i.test(msg)) return;
      if (Date.now() > deadline) throw new Error(`temporal operator namespace create failed: ${msg}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
