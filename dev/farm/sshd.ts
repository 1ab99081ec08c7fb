// N real OpenSSH servers on loopback addresses, with a client key and a hashed known_hosts: the engine tests'
// fixture (test/support/sshd.ts re-exports this) and the demo farm's SSH targets (dev/farm/farm.ts).
//
//   const sshd = await startSshd({ count: 2, baseAddress: '127.0.1.11' });
//   const [t1, t2] = sshd.targetsFor('my test');   // fresh workdirs (and so locks) for this test
//   ...
//   await sshd.stop();
//
// Each target i listens on <baseAddress + i>:<port> (default 127.0.0.11+i, port 2222). Test files that run in
// parallel must use different addresses (or ports). Needs root (or at least a readable /run/sshd and a user that
// sshd lets in), /usr/sbin/sshd, ssh-keygen and ssh-keyscan.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TargetPlan } from '../../domain/plan';
import { dieWithParent } from './dieWithParent';

const execFileP = promisify(execFile);

export interface SshdOptions {
  /** Number of servers (default 1). */
  count?: number;
  /** Address of the first server; the last octet grows by one per server (default 127.0.0.11). */
  baseAddress?: string;
  /** Port every server listens on (default 2222). */
  port?: number;
  /** Login user (default: the current user; root gets `PermitRootLogin prohibit-password`). */
  user?: string;
  sshdPath?: string;
  /** Milliseconds to wait for every server to accept connections (default 10 000). */
  startTimeoutMs?: number;
  /** Name prefix of the targets (default `t`: t1, t2, …). */
  namePrefix?: string;
  /**
   * Directory for keys, configs and workdirs (emptied first, kept by stop()). Default: a fresh temp directory
   * that stop() removes.
   */
  dir?: string;
}

export interface SshdServer {
  name: string;
  host: string;
  port: number;
  /** Path of the server's public host key (`ssh-ed25519 AAAA…`). */
  hostKeyPubPath: string;
  /** Lines of its known_hosts entry (hashed, from ssh-keyscan -H). */
  knownHostsLines: string[];
  /** Everything sshd wrote to stderr so far (`-e`). */
  log(): string;
  process: ChildProcess;
}

export interface SshdFixture {
  /** Temp directory holding keys, configs, logs and workdirs. */
  dir: string;
  servers: SshdServer[];
  /** One target per server, workdirs under <dir>/work/default/<name>. */
  targets: TargetPlan[];
  /** Client private key (ed25519, no passphrase). */
  keyPath: string;
  /** Hashed known_hosts for all servers. */
  knownHostsPath: string;
  /** Targets with workdirs of their own (so tests do not share workdirs or locks). */
  targetsFor(testName: string): TargetPlan[];
  /** How many `Accepted publickey` lines server i has logged. */
  acceptedLogins(i: number): number;
  stop(): Promise<void>;
}

function addressAt(base: string, i: number): string {
  const parts = base.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`startSshd: bad baseAddress ${base}`);
  }
  const last = (parts[3] ?? 0) + i;
  if (last > 254) throw new Error(`startSshd: ${base} + ${i} leaves the /24`);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${last}`;
}

/** Fails with a clear message if host:port cannot be bound (taken, or no such address). */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `startSshd: ${host}:${port} is already in use (another sshd or test file?); pick another baseAddress/port`
            : `startSshd: cannot bind ${host}:${port}: ${err.message}`,
        ),
      );
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

/** Resolves once host:port sends an SSH banner. */
function waitForBanner(
  host: string,
  port: number,
  deadline: number,
  proc: ChildProcess,
  log: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        reject(
          new Error(`startSshd: sshd for ${host}:${port} exited (${proc.exitCode ?? proc.signalCode}):\n${log()}`),
        );
        return;
      }
      if (Date.now() > deadline) {
        reject(new Error(`startSshd: sshd on ${host}:${port} did not come up in time:\n${log()}`));
        return;
      }
      const sock = netConnect({ host, port });
      let got = '';
      const retry = (): void => {
        sock.destroy();
        setTimeout(attempt, 50);
      };
      sock.setTimeout(1000, retry);
      sock.once('error', retry);
      sock.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.startsWith('SSH-')) {
          sock.destroy();
          resolve();
        }
      });
    };
    attempt();
  });
}

async function keygen(path: string, comment: string): Promise<void> {
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdFixture> {
  const count = opts.count ?? 1;
  const base = opts.baseAddress ?? '127.0.0.11';
  const port = opts.port ?? 2222;
  const user = opts.user ?? userInfo().username;
  const sshdPath = opts.sshdPath ?? '/usr/sbin/sshd';
  const prefix = opts.namePrefix ?? 't';
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;

  const hosts = Array.from({ length: count }, (_, i) => addressAt(base, i));
  for (const h of hosts) await assertPortFree(h, port);

  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'rollout-sshd-')));
  if (!ownDir) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  const servers: SshdServer[] = [];
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    // Stopping a listener does not end its live sessions: end them first (they are its direct children).
    for (const p of procs) {
      if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) continue;
      const children = await execFileP('ps', ['-o', 'pid=', '--ppid', String(p.pid)]).then(
        (r) =>
          r.stdout
            .split('\n')
            .map((l) => Number(l.trim()))
            .filter((n) => n > 0),
        () => [] as number[],
      );
      for (const pid of children) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 3000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    await mkdir('/run/sshd', { recursive: true });
    if (user !== userInfo().username) await chmod(dir, 0o755); // the login user must read authorized_keys
    const keyPath = join(dir, 'client_ed25519');
    await keygen(keyPath, 'rollout-test-client');
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${keyPath}.pub`, 'utf8'), { mode: 0o644 });

    await Promise.all(
      hosts.map(async (host, i) => {
        const name = `${prefix}${i + 1}`;
        const hostKey = join(dir, `host_${name}`);
        await keygen(hostKey, `rollout-test-host-${name}`);
        const cfg = join(dir, `sshd_${name}.conf`);
        await writeFile(
          cfg,
          [
            `ListenAddress ${host}:${port}`,
            `HostKey ${hostKey}`,
            `PidFile ${join(dir, `sshd_${name}.pid`)}`,
            `AuthorizedKeysFile ${authorizedKeys}`,
            'UsePAM no',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'PubkeyAuthentication yes',
            user === 'root' ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
            `AllowUsers ${user}`,
            'StrictModes no',
            'UseDNS no',
            'PrintMotd no',
            'MaxSessions 50',
            // SFTP (artifact child steps copy files over it), served in-process: no sftp-server binary needed.
            'Subsystem sftp internal-sftp',
            'MaxStartups 50:30:100',
            'LogLevel INFO',
            '',
          ].join('\n'),
        );
        let log = '';
        // setpriv (util-linux) gives sshd a parent-death signal, so it never outlives a crashed test or launcher.
        const [cmd, args] = dieWithParent(sshdPath, ['-D', '-e', '-f', cfg]);
        const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        procs.push(proc);
        proc.stderr?.on('data', (d: Buffer) => {
          log += d.toString('utf8');
        });
        proc.once('error', (err) => {
          log += `spawn error: ${err.message}\n`;
        });
        await waitForBanner(host, port, Date.now() + startTimeoutMs, proc, () => log);
        const { stdout } = await execFileP('ssh-keyscan', ['-H', '-t', 'ed25519', '-p', String(port), host]);
        const knownHostsLines = stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
        if (knownHostsLines.length === 0) throw new Error(`startSshd: ssh-keyscan found no key on ${host}:${port}`);
        servers[i] = {
          name,
          host,
          port,
          hostKeyPubPath: `${hostKey}.pub`,
          knownHostsLines,
          log: () => log,
          process: proc,
        };
      }),
    );

    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, servers.flatMap((s) => s.knownHostsLines).join('\n') + '\n');

    let seq = 0;
    const targetsUnder = (root: string): TargetPlan[] =>
      servers.map((s) => ({
        name: s.name,
        transport: 'ssh',
        host: s.host,
        port: s.port,
        user,
        tags: [],
        workdir: join(root, s.name),
        privateKeyPath: keyPath,
        knownHostsPath,
        strictHostKeyChecking: true,
        variables: {},
      }));

    return {
      dir,
      servers,
      targets: targetsUnder(join(dir, 'work', 'default')),
      keyPath,
      knownHostsPath,
      targetsFor: (testName) =>
        targetsUnder(join(dir, 'work', `${testName.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60)}-${++seq}`)),
      acceptedLogins: (i) => (servers[i]?.log().match(/Accepted publickey/g) ?? []).length,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Why an sshd cannot be started here (not root, or no OpenSSH server/tools), or undefined when it can. */
export async function sshdUnavailable(sshdPath = '/usr/sbin/sshd'): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    await access(sshdPath, fsConstants.X_OK);
  } catch {
    return `${sshdPath} not found (apt-get install openssh-server)`;
  }
  for (const tool of ['ssh-keygen', 'ssh-keyscan']) {
    try {
      await execFileP('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} not found (apt-get install openssh-client)`;
    }
  }
  return undefined;
}
