// The demo web farm: four app servers on loopback ports behind a load balancer, deployable with the example
// config (examples/web-farm/rollout.yaml).
//
//   const farm = await startDemoFarm({ stateDir: '.rollout' });
//   // farm.configPath: the effective config (real ports, socket, transport) for loadConfigFile()
//   await farm.versions();   // { web1: 'v1', … }  what each server answers right now
//   await farm.poolState();  // { web1: 'UP', … }  the load balancer's view (UP | DOWN | DRAIN | MAINT | …)
//   await farm.stop();       // every process it started is gone
//
// Processes: one `node app-server.mjs` per target (each serving its own target directory), HAProxy
// (`haproxy -f <cfg> -db`, runtime API on a `stats socket … level admin`) or, where HAProxy is not installed, the
// small Node proxy mini-lb.mjs; and, where an sshd can be started (root, /usr/sbin/sshd) and `useSsh` allows,
// one sshd per target on loopback, so the targets are reached over SSH. Otherwise the targets use the local
// transport (scripts run by a local shell in each target's directory).
//
// Files, all under <stateDir>/demo/: rollout.yaml (effective config), targets/<name>/ (target directories:
// releases/<release>/version, current -> releases/<release>), haproxy.cfg, haproxy.sock, ssh/ (keys, sshd
// configs, known_hosts), logs/<process>.log. Target directories survive restarts (the farm keeps the release it
// had); everything else is rewritten on each start.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { access, lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { inheritedEnv } from '../../src/env';
import { getFreePort } from '../../src/temporal/devServer';
import { dieWithParent } from './dieWithParent';
import { startSshd, sshdUnavailable, type SshdFixture } from './sshd';

/** The example the demo runs: app server, load-balancer tools and the config a user would write. */
export const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/web-farm/', import.meta.url));

export interface DemoFarmOptions {
  /** Project state directory; the farm lives in <stateDir>/demo. */
  stateDir: string;
  /** Reach the targets over SSH: 'auto' (default) = when an sshd can be started here, else local transport. */
  useSsh?: 'auto' | boolean;
  /** Use HAProxy: 'auto' (default) = when installed, else the built-in mini-lb.mjs. */
  haproxy?: 'auto' | boolean;
  /** Fixed ports: load balancer = basePort, app servers basePort+1…+4, mini-lb admin basePort+5. Default: free ports. */
  basePort?: number;
  /** Address of the first sshd (one per target, the last octet grows by one); default 127.0.0.71. */
  sshBaseAddress?: string;
  /** Port every sshd listens on (default 2222). */
  sshPort?: number;
  haproxyPath?: string;
  /** Node that runs the app servers, mini-lb and the deploy scripts' tools (default: this process's). */
  nodePath?: string;
  /** Release deployed on a target that has none yet (default v1). */
  initialRelease?: string;
  /** Progress and fallback messages (default: none). */
  log?: (line: string) => void;
}

export interface DemoServer {
  name: string;
  /** The app server itself (not through the load balancer). */
  url: string;
  /** Its target directory. */
  dir: string;
}

export interface DemoFarm {
  /** The effective config (<stateDir>/demo/rollout.yaml): load it with loadConfigFile(). */
  configPath: string;
  /** The deployable it declares. */
  deployable: string;
  /** The load balancer's traffic URL. */
  lbUrl: string;
  lb: 'haproxy' | 'mini-lb';
  transport: 'ssh' | 'local';
  /** Why a fallback was taken (no sshd, no HAProxy), for the launcher to print. */
  notes: string[];
  servers: DemoServer[];
  /** What each server answers at GET / right now: its version, or `(unreachable)` / `(HTTP <status>)`. */
  versions(): Promise<Record<string, string>>;
  /** The load balancer's view of each server: UP | DOWN | DRAIN | MAINT | … */
  poolState(): Promise<Record<string, string>>;
  /** Stops every process the farm started (target directories are kept). */
  stop(): Promise<void>;
}

/** The client exported by examples/web-farm/lb.mjs (the same code the deploy scripts run). */
export interface LbClient {
  kind: 'haproxy' | 'mini-lb';
  setState(server: string, state: 'drain' | 'ready' | 'maint'): Promise<void>;
  /** Server name → UP | DOWN | DRAIN | MAINT | NOLB | … */
  states(): Promise<Record<string, string>>;
  state(server: string): Promise<string>;
  sessions(server: string): Promise<number>;
}

type LbClientFactory = (opts: { socket?: string; adminUrl?: string; backend?: string }) => LbClient;

/** Loads lb.mjs's lbClient (plain JavaScript, so imported at run time rather than type-checked). */
export async function loadLbClient(): Promise<LbClientFactory> {
  const mod = (await import(pathToFileURL(path.join(EXAMPLE_DIR, 'lb.mjs')).href)) as { lbClient: LbClientFactory };
  return mod.lbClient;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
}

const LOOPBACK = '127.0.0.1';
const UNIX_SOCKET_PATH_MAX = 100;

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function stopProc(p: Proc, graceMs = 3000): Promise<void> {
  const c = p.child;
  if (exited(c)) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

async function logTail(p: Proc): Promise<string> {
  const text = await readFile(p.logPath, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}

async function until<T>(
  what: string,
  timeoutMs: number,
  proc: Proc | undefined,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (proc && exited(proc.child)) {
      throw new Error(
        `demo farm: ${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${await logTail(proc)}`,
      );
    }
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const tail = proc ? `\n${await logTail(proc)}` : '';
      throw new Error(
        `demo farm: ${what} not ready within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function isExecutable(p: string): Promise<boolean> {
  try {
    await access(p, 1);
    return true;
  } catch {
    return false;
  }
}

/** Deploys `release` into a target directory that has no `current` yet, as the deploy script would. */
async function seedTarget(dir: string, release: string): Promise<void> {
  await mkdir(path.join(dir, 'releases', release), { recursive: true });
  const current = path.join(dir, 'current');
  const has = await lstat(current).then(
    () => true,
    () => false,
  );
  if (has) return;
  await writeFile(path.join(dir, 'releases', release, 'version'), `${release}\n`);
  await symlink(path.posix.join('releases', release), current);
}

function haproxyConfig(o: {
  socket: string;
  frontendPort: number;
  servers: Array<{ name: string; port: number }>;
  pidFile: string;
}): string {
  return [
    '# Written by the rollout demo (dev/farm/farm.ts); rewritten on each start.',
    'global',
    `  stats socket ${o.socket} mode 600 level admin`,
    `  pidfile ${o.pidFile}`,
    '  hard-stop-after 5s',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout check 2s',
    '  option redispatch',
    '  retries 2',
    '',
    'frontend demo',
    `  bind ${LOOPBACK}:${o.frontendPort}`,
    '  default_backend web',
    '',
    'backend web',
    '  balance roundrobin',
    '  option httpchk GET /health',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 2',
    ...o.servers.map((s) => `  server ${s.name} ${LOOPBACK}:${s.port} check`),
    '',
  ].join('\n');
}

async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await getFreePort(LOOPBACK);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export async function startDemoFarm(opts: DemoFarmOptions): Promise<DemoFarm> {
  const log = opts.log ?? (() => undefined);
  const nodePath = opts.nodePath ?? process.execPath;
  const initialRelease = opts.initialRelease ?? 'v1';
  const demoDir = path.resolve(opts.stateDir, 'demo');
  const logDir = path.join(demoDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const notes: string[] = [];
  const note = (s: string) => {
    notes.push(s);
    log(s);
  };

  // The example config: its targets (in order) and its deployable.
  const examplePath = path.join(EXAMPLE_DIR, 'rollout.yaml');
  const doc = YAML.parseDocument(await readFile(examplePath, 'utf8'));
  const example = doc.toJS() as { targets: Record<string, unknown>; deployables: Record<string, unknown> };
  const names = Object.keys(example.targets);
  const deployable = Object.keys(example.deployables)[0];
  if (!deployable || names.length === 0) throw new Error(`${examplePath}: expected targets and a deployable`);

  // Which load balancer and transport.
  const haproxyPath = opts.haproxyPath ?? '/usr/sbin/haproxy';
  const haveHaproxy = await isExecutable(haproxyPath);
  if (opts.haproxy === true && !haveHaproxy)
    throw new Error(`demo farm: ${haproxyPath} not found (apt-get install haproxy)`);
  const useHaproxy = opts.haproxy !== false && haveHaproxy;
  if (opts.haproxy !== false && !haveHaproxy)
    note(`HAProxy not found at ${haproxyPath}: using the built-in mini-lb.mjs`);
  let sshNo: string | undefined = opts.useSsh === false ? 'disabled' : await sshdUnavailable();
  if (opts.useSsh === true && sshNo) throw new Error(`demo farm: cannot start sshd: ${sshNo}`);

  const ports =
    opts.basePort !== undefined
      ? Array.from({ length: names.length + 2 }, (_, i) => opts.basePort! + i)
      : await freePorts(names.length + 2);
  const lbPort = ports[0]!;
  const adminPort = ports[names.length + 1]!;
  const servers: Array<DemoServer & { port: number }> = names.map((name, i) => ({
    name,
    port: ports[i + 1]!,
    url: `http://${LOOPBACK}:${ports[i + 1]}`,
    dir: path.join(demoDir, 'targets', name),
  }));

  const procs: Proc[] = [];
  let sshd: SshdFixture | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => stopProc(p)));
    await sshd?.stop();
  };
  const start = (name: string, cmd: string, args: string[]): Proc => {
    const logPath = path.join(logDir, `${name}.log`);
    const fd = openSync(logPath, 'w');
    try {
      // stdin stays a pipe: the Node children exit when it closes, so they never outlive this process.
      const [command, argv] = dieWithParent(cmd, args);
      const child = spawn(command, argv, { stdio: ['pipe', fd, fd], env: inheritedEnv({ ROLLOUT_DEMO_CHILD: '1' }) });
      child.on('error', () => undefined); // seen as an exit by until()
      const p = { name, child, logPath };
      procs.push(p);
      return p;
    } finally {
      closeSync(fd);
    }
  };

  try {
    // App servers.
    for (const s of servers) await seedTarget(s.dir, initialRelease);
    const appScript = path.join(EXAMPLE_DIR, 'app-server.mjs');
    await Promise.all(
      servers.map(async (s) => {
        const p = start(s.name, nodePath, [
          appScript,
          '--name',
          s.name,
          '--host',
          LOOPBACK,
          '--port',
          String(s.port),
          '--dir',
          s.dir,
        ]);
        // Any answer will do (a server left broken by an earlier run answers 500 on /health).
        await until(`app server ${s.name}`, 10_000, p, async () =>
          (await fetch(s.url, { signal: AbortSignal.timeout(1000) })).status ? true : undefined,
        );
      }),
    );
    log(`app servers: ${servers.map((s) => `${s.name} ${s.url}`).join(', ')}`);

    // Load balancer.
    const lbClient = await loadLbClient();
    let lb: LbClient;
    let lbSocket = '';
    let lbAdminUrl = '';
    if (useHaproxy) {
      lbSocket = path.join(demoDir, 'haproxy.sock');
      if (lbSocket.length > UNIX_SOCKET_PATH_MAX)
        lbSocket = path.join(tmpdir(), `rollout-haproxy-${randomBytes(4).toString('hex')}.sock`);
      await rm(lbSocket, { force: true });
      const cfgPath = path.join(demoDir, 'haproxy.cfg');
      await writeFile(
        cfgPath,
        haproxyConfig({ socket: lbSocket, frontendPort: lbPort, servers, pidFile: path.join(demoDir, 'haproxy.pid') }),
      );
      const p = start('haproxy', haproxyPath, ['-f', cfgPath, '-db']);
      lb = lbClient({ socket: lbSocket, backend: 'web' });
      await until('HAProxy', 10_000, p, async () => (existsSync(lbSocket) ? await lb.states() : undefined));
    } else {
      lbAdminUrl = `http://${LOOPBACK}:${adminPort}`;
      const args = [
        path.join(EXAMPLE_DIR, 'mini-lb.mjs'),
        '--host',
        LOOPBACK,
        '--port',
        String(lbPort),
        '--admin-port',
        String(adminPort),
      ];
      for (const s of servers) args.push('--server', `${s.name}=${LOOPBACK}:${s.port}`);
      const p = start('mini-lb', nodePath, args);
      lb = lbClient({ adminUrl: lbAdminUrl });
      await until('mini-lb', 10_000, p, () => lb.states());
    }
    const lbProc = procs[procs.length - 1];
    // Health checks take a moment; a server left broken by an earlier run stays DOWN, which is fine.
    await until('load balancer pool', 5_000, lbProc, async () => {
      const st = await lb.states();
      return servers.every((s) => st[s.name] === 'UP') ? st : undefined;
    }).catch((e: Error) => note(`not every server is UP in the load balancer yet: ${e.message.split('\n')[0]}`));
    const lbUrl = `http://${LOOPBACK}:${lbPort}`;
    log(
      `load balancer: ${useHaproxy ? `HAProxy ${lbUrl} (socket ${lbSocket})` : `mini-lb ${lbUrl} (admin ${lbAdminUrl})`}`,
    );

    // SSH targets.
    if (!sshNo) {
      try {
        sshd = await startSshd({
          count: names.length,
          baseAddress: opts.sshBaseAddress ?? '127.0.0.71',
          port: opts.sshPort ?? 2222,
          user: 'root',
          namePrefix: 'ssh-',
          dir: path.join(demoDir, 'ssh'),
        });
      } catch (e) {
        if (opts.useSsh === true) throw e;
        sshNo = (e as Error).message.split('\n')[0];
      }
    }
    if (sshNo && opts.useSsh !== false) note(`no SSH targets (${sshNo}): the demo uses the local transport`);
    const transport = sshd ? 'ssh' : 'local';

    // The effective config: the example with this farm's facts filled in.
    for (const [i, s] of servers.entries()) {
      const t = ['targets', s.name];
      const srv = sshd?.servers[i];
      if (sshd && srv) {
        doc.setIn([...t, 'transport'], 'ssh');
        doc.setIn([...t, 'host'], srv.host);
        doc.setIn([...t, 'port'], srv.port);
        doc.setIn([...t, 'user'], 'root');
        doc.setIn([...t, 'privateKeyPath'], sshd.keyPath);
        doc.setIn([...t, 'knownHostsPath'], sshd.knownHostsPath);
      } else {
        doc.setIn([...t, 'transport'], 'local');
      }
      doc.setIn([...t, 'workdir'], s.dir);
      doc.setIn([...t, 'variables', 'AppUrl'], s.url);
    }
    const vars = ['deployables', deployable, 'variables'];
    doc.setIn([...vars, 'Node'], nodePath);
    doc.setIn([...vars, 'ToolsDir'], EXAMPLE_DIR.replace(/\/$/, ''));
    doc.setIn([...vars, 'LbSocket'], lbSocket);
    doc.setIn([...vars, 'LbAdminUrl'], lbAdminUrl);
    doc.setIn([...vars, 'LbBackend'], 'web');
    doc.commentBefore =
      ` GENERATED by the rollout demo (dev/farm/farm.ts) from ${examplePath}: edit that file instead.\n` +
      ` This run: ${transport} transport, ${useHaproxy ? 'HAProxy' : 'mini-lb'} at ${lbUrl}.\n\n${doc.commentBefore ?? ''}`;
    const configPath = path.join(demoDir, 'rollout.yaml');
    await writeFile(configPath, doc.toString({ lineWidth: 0 }));

    return {
      configPath,
      deployable,
      lbUrl,
      lb: useHaproxy ? 'haproxy' : 'mini-lb',
      transport,
      notes,
      servers: servers.map(({ name, url, dir }) => ({ name, url, dir })),
      async versions() {
        const entries = await Promise.all(
          servers.map(async (s): Promise<[string, string]> => {
            try {
              const res = await fetch(s.url, { signal: AbortSignal.timeout(2000) });
              const body = (await res.json().catch(() => ({}))) as { version?: unknown };
              if (!res.ok || typeof body.version !== 'string') return [s.name, `(HTTP ${res.status})`];
              return [s.name, body.version];
            } catch {
              return [s.name, '(unreachable)'];
            }
          }),
        );
        return Object.fromEntries(entries);
      },
      poolState: () => lb.states(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
