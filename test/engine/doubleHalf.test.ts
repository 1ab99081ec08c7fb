// Double-half deployment against real sshd targets (127.0.22.11–14) and a real HAProxy: the provision script
// "creates" the new half (pre-started sshd instances) by printing it and writing its host keys to the new half's
// known_hosts; the hooks talk to HAProxy's runtime API (test/support/doubleHalfLb.mjs).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSummary, getTargets, startRollout } from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor, planFor, startEngineFixture, type EngineFixture } from '../support/rollouts';
import type { SshdFixture } from '../support/sshd';
import type { TemporalTestEnv } from '../support/temporal';

const LB_TOOL = fileURLToPath(new URL('../support/doubleHalfLb.mjs', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;
let dir: string;
let haproxy: ChildProcess | undefined;
let socketPath: string;
let lbPort: number;
const apps: Server[] = [];
/** App server address per name (what HAProxy sends traffic to). */
const appAddr: Record<string, string> = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startApp(name: string): Promise<void> {
  const srv = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  apps.push(srv as unknown as Server);
  appAddr[name] = `127.0.0.1:${(srv.address() as { port: number }).port}`;
}

function lbCommand(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let out = '';
    s.on('data', (d) => (out += String(d)));
    s.on('error', reject);
    s.on('end', () => resolve(out));
    s.write(`${line}\n`);
  });
}

/** HAProxy's `show servers state web`: server name → operational state (UP/DOWN) and admin state (maint or not). */
async function pool(): Promise<Record<string, string>> {
  const out = await lbCommand('show servers state web');
  const st: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length > 6 && /^\d+$/.test(f[0] ?? '')) {
      const admin = Number(f[6]);
      st[f[3] as string] = admin & 1 || admin & 4 ? 'MAINT' : admin & 8 ? 'DRAIN' : Number(f[5]) === 2 ? 'UP' : 'DOWN';
    }
  }
  return st;
}

async function startHaproxy(old: string[]): Promise<void> {
  socketPath = path.join(dir, 'haproxy.sock');
  lbPort = await freePort();
  const cfg = [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    '  hard-stop-after 5s',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  option redispatch',
    '  retries 2',
    'frontend fe',
    `  bind 127.0.0.1:${lbPort}`,
    '  default_backend web',
    'backend web',
    '  balance roundrobin',
    ...old.map((n) => `  server ${n} ${appAddr[n]} check inter 300ms fall 2 rise 1`),
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'haproxy.cfg'), cfg);
  haproxy = spawn(HAPROXY, ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const st = await pool();
      if (old.every((n) => st[n] === 'UP')) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('haproxy did not come up');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Requests through HAProxy until stopped: how many, which failed, who answered. */
function traffic() {
  const r = { count: 0, failures: [] as string[], seen: new Set<string>() };
  let stop = false;
  const client = async () => {
    while (!stop) {
      r.count++;
      try {
        const res = await fetch(`http://127.0.0.1:${lbPort}/`, { signal: AbortSignal.timeout(5000) });
        const body = await res.text();
        if (res.status !== 200) r.failures.push(`HTTP ${res.status} ${body.slice(0, 100)}`);
        else r.seen.add(body);
      } catch (e) {
        r.failures.push((e as Error).message);
      }
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  const running = Promise.all([client(), client(), client()]);
  return {
    r,
    async stop() {
      stop = true;
      await running;
      return r;
    },
  };
}

let oldTargets: TargetPlan[];
let newHosts: TargetPlan[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rollout-doublehalf-'));
  fixture = await startEngineFixture({ count: 4, baseAddress: '127.0.22.11', queuePrefix: 'doublehalf' });
  ({ sshd, env } = fixture);
  const all = sshd.targetsFor('doublehalf');
  oldTargets = all.slice(0, 2);
  newHosts = all.slice(2);
  for (const n of ['web1', 'web2', 'green1', 'green2', 'blue1', 'blue2', 'pink1', 'pink2']) await startApp(n);
  await startHaproxy(['web1', 'web2']);
});

afterAll(async () => {
  haproxy?.kill('SIGTERM');
  for (const a of apps) a.close();
  await fixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A provision script that "creates" two machines named <prefix>1, <prefix>2 on the pre-started sshd instances:
 * it prints one target line each and appends their host keys to the new half's known_hosts.
 */
async function provisionScript(
  prefix: string,
  knownHosts: string,
  o: { writeHostKeys?: boolean; extra?: string } = {},
): Promise<string> {
  const inventory = path.join(dir, `${prefix}-hostkeys`);
  await writeFile(
    inventory,
    sshd.servers
      .slice(2)
      .flatMap((s) => s.knownHostsLines)
      .join('\n') + '\n',
  );
  const lines = newHosts.map((t, i) => {
    const name = `${prefix}${i + 1}`;
    const json = JSON.stringify({ name, host: t.host, port: t.port, variables: { AppAddr: appAddr[name] } });
    return `echo '##rollout[target ${json}]'`;
  });
  return [
    ...(o.writeHostKeys === false ? [] : [`cat ${inventory} >> ${knownHosts}`]),
    'echo provisioning',
    ...lines,
    ...(o.extra ? [o.extra] : []),
  ].join('\n');
}

async function config(
  prefix: string,
  markerDir: string,
  knownHosts: string,
  o: { writeHostKeys?: boolean; extra?: string; onFailure?: 'fail'; decommissionFirst?: string } = {},
) {
  const workdir = path.join(dir, 'work', prefix);
  return configFor(oldTargets, {
    farm: {
      targets: ['tag:web'],
      variables: { LbSocket: socketPath, LbBackend: 'web', MarkerDir: markerDir, Node: process.execPath },
      process: [
        {
          type: 'double-half',
          name: 'grow',
          tags: ['web'],
          window: 2,
          hookWorkdir: path.join(dir, 'hooks', prefix),
          provision: { script: await provisionScript(prefix, knownHosts, o), timeoutSec: 60 },
          ...(o.onFailure ? { onFailure: o.onFailure } : {}),
          addToLoadBalancer: { script: `"$ROLLOUT_VAR_NODE" ${LB_TOOL} add`, timeoutSec: 60 },
          decommission: { script: `${o.decommissionFirst ?? ''}"$ROLLOUT_VAR_NODE" ${LB_TOOL} remove`, timeoutSec: 60 },
          newTargets: {
            user: oldTargets[0]!.user,
            privateKeyPath: sshd.keyPath,
            knownHostsPath: knownHosts,
            // The same path on every new machine (here they share this machine's disk, so their locks take turns).
            workdir,
            tags: ['web'],
          },
          childSteps: [
            {
              name: 'deploy',
              script:
                'echo "$ROLLOUT_RELEASE" > release; case "$ROLLOUT_RELEASE" in *-slow) sleep 4;; esac; echo deployed',
            },
            {
              name: 'sanity',
              script: 'case "$ROLLOUT_RELEASE" in *-broken) echo "sanity check failed"; exit 1;; esac; echo ok',
            },
          ],
        },
      ],
    },
  });
}

const markersIn = async (d: string) => (await readdir(d)).sort();

describe('double-half deployment', () => {
  it('a success leaves only the new targets in HAProxy and the old ones decommissioned, with no failed request', async () => {
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'green_known_hosts');
    await writeFile(knownHosts, '');
    const cfg = await config('green', markerDir, knownHosts);
    expect(await pool()).toEqual({ web1: 'UP', web2: 'UP' });
    const load = traffic();
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'farm', 'v2'));
    const result = await handle.result();
    // Some traffic after the switch, so the new half is seen answering.
    const until = Date.now() + 5000;
    while (Date.now() < until && !(load.r.seen.has('green1') && load.r.seen.has('green2')))
      await new Promise((r) => setTimeout(r, 50));
    const t = await load.stop();

    expect(result.status, result.summary.stopReason).toBe('succeeded');
    const step = result.summary.steps[0]!;
    expect(step.type).toBe('double-half');
    expect(step.counts).toMatchObject({ succeeded: 2 });
    expect(step.doubleHalf).toMatchObject({
      phase: 'done',
      old: { count: 2, names: ['web1', 'web2'], state: 'decommissioned' },
      new: { count: 2, names: ['green1', 'green2'], state: 'serving' },
    });
    // Only the new targets are in the load balancer; the old half's decommission markers are there, not the new's.
    const st = await pool();
    expect(Object.fromEntries(Object.entries(st).filter(([, v]) => v !== 'MAINT'))).toEqual({
      green1: 'UP',
      green2: 'UP',
    });
    expect(await markersIn(markerDir)).toEqual(['decommissioned-web1', 'decommissioned-web2']);
    // The release reached the new targets over SSH (their workdirs are on this machine).
    expect(existsSync(path.join(dir, 'work', 'green', 'release'))).toBe(true);
    // Status shows the new targets like the plan's.
    const page = await getTargets(env.client, handle.workflowId, {});
    expect(page.targets.map((x) => x.name)).toEqual(['web1', 'web2', 'green1', 'green2']);
    expect(t.failures).toEqual([]);
    expect(t.count).toBeGreaterThan(20);
    expect(t.seen.has('green1') || t.seen.has('green2')).toBe(true);
  });

  it('a new half failing its sanity check leaves the old half serving and the new one decommissioned', async () => {
    // The previous test left green1/green2 serving: they are this test's "old half".
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'blue_known_hosts');
    await writeFile(knownHosts, '');
    const greens = newHosts.map((t, i) => ({ ...t, name: `green${i + 1}` }));
    oldTargets = greens;
    const cfg = await config('blue', markerDir, knownHosts);
    const load = traffic();
    const handle = await startRollout(env.client, env.taskQueue, {
      ...planFor(cfg, 'farm', 'v3-broken'),
    });
    // Guided failure: the sanity check fails on a new target, a human is asked (the card names the new target).
    const deadline = Date.now() + 60_000;
    let s = await getSummary(env.client, handle.workflowId);
    while (s.pendingDecisions.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await getSummary(env.client, handle.workflowId);
    }
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({ kind: 'failure', step: 'grow', childStep: 'sanity' });
    expect(['blue1', 'blue2']).toContain(d.target);
    expect(s.steps[0]?.doubleHalf).toMatchObject({ phase: 'deploying', old: { state: 'serving' } });
    const { decide } = await import('../../src/temporal/client');
    expect((await decide(env.client, handle.workflowId, d.id, 'fail', 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    const t = await load.stop();

    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toBe('sanity failed on ' + d.target + ': Fail chosen by U_ALICE');
    expect(result.summary.steps[0]?.doubleHalf?.problem).toMatch(/^new half not ready before the switch \(blue/);
    expect(result.summary.steps[0]?.doubleHalf).toMatchObject({
      phase: 'rolled-back',
      old: { state: 'serving' },
      new: { count: 2, state: 'decommissioned' },
    });
    const st = await pool();
    expect(Object.fromEntries(Object.entries(st).filter(([, v]) => v !== 'MAINT'))).toEqual({
      green1: 'UP',
      green2: 'UP',
    });
    expect(st.blue1).toBeUndefined();
    expect(await markersIn(markerDir)).toEqual(['decommissioned-blue1', 'decommissioned-blue2']);
    expect(t.failures).toEqual([]);
    expect(t.seen.has('blue1') || t.seen.has('blue2')).toBe(false);
  });

  it('bad provision output is refused: the rollout fails, the targets it did print are decommissioned, the old half serves', async () => {
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'red_known_hosts');
    await writeFile(knownHosts, '');
    const cfg = await config('red', markerDir, knownHosts, {
      extra: `echo '##rollout[target {"name":"red3","host":"127.0.22.13","port":"two"}]'`,
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'farm', 'v4'));
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toMatch(
      /^grow: provision: output refused: provision output line 4: port: .*\(the old half keeps serving\)$/s,
    );
    expect(result.summary.steps[0]?.doubleHalf).toMatchObject({
      phase: 'rolled-back',
      old: { state: 'serving' },
      new: { count: 2, names: ['red1', 'red2'], state: 'decommissioned' },
    });
    // Nothing was deployed to the printed ones; they were handed to the decommission script.
    expect(result.summary.steps[0]?.counts.succeeded).toBe(0);
    expect(await markersIn(markerDir)).toEqual(['decommissioned-red1', 'decommissioned-red2']);
    const st = await pool();
    expect(Object.fromEntries(Object.entries(st).filter(([, v]) => v !== 'MAINT'))).toEqual({
      green1: 'UP',
      green2: 'UP',
    });
  });

  it('a new target whose host key the provision script did not record is refused (nothing runs on it)', async () => {
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'grey_known_hosts');
    await writeFile(knownHosts, '');
    const cfg = await config('grey', markerDir, knownHosts, { writeHostKeys: false, onFailure: 'fail' });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'farm', 'v5'));
    const result = await handle.result();
    expect(result.status).toBe('failed');
    const page = await getTargets(env.client, handle.workflowId, { target: 'grey1' });
    const deploy = page.targets[0]?.steps[0]?.children[0];
    expect(deploy?.state).toBe('failed');
    expect(deploy?.error).toMatch(/host[- ]key/i);
    expect(existsSync(path.join(dir, 'work', 'grey', 'release'))).toBe(false);
    expect(result.summary.steps[0]?.doubleHalf).toMatchObject({
      phase: 'rolled-back',
      new: { state: 'decommissioned' },
    });
    expect(await markersIn(markerDir)).toEqual(['decommissioned-grey1', 'decommissioned-grey2']);
  });

  it('a decommission of the old half failing after the switch fails the rollout and leaves the new half serving', async () => {
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'pink_known_hosts');
    await writeFile(knownHosts, '');
    const cfg = await config('pink', markerDir, knownHosts, {
      decommissionFirst: 'if [ "$ROLLOUT_HALF" = old ]; then echo "cannot destroy $ROLLOUT_TARGETS" >&2; exit 3; fi; ',
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'farm', 'v6'));
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toMatch(
      /^grow: after the switch: the new half serves; decommissioning the old half failed: decommission: exited with 3: .*cannot destroy green1 green2/s,
    );
    expect(result.summary.steps[0]?.doubleHalf).toMatchObject({
      phase: 'failed',
      old: { names: ['green1', 'green2'], state: 'left' },
      new: { names: ['pink1', 'pink2'], state: 'serving' },
    });
    const st = await pool();
    expect(st).toMatchObject({ green1: 'UP', green2: 'UP', pink1: 'UP', pink2: 'UP' });
    expect(await markersIn(markerDir)).toEqual([]);
  });

  it('control: the traffic measurement sees failures when a server in the pool answers 500', async () => {
    const srv = createHttpServer((_req, res) => {
      res.writeHead(500);
      res.end('broken');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    apps.push(srv as unknown as Server);
    const addr = `127.0.0.1:${(srv.address() as { port: number }).port}`;
    expect(await lbCommand(`add server web/broken ${addr}`)).toMatch(/New server registered/);
    await lbCommand('enable server web/broken');
    const load = traffic();
    const deadline = Date.now() + 10_000;
    while (load.r.failures.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const t = await load.stop();
    await lbCommand('set server web/broken state maint');
    await lbCommand('del server web/broken');
    expect(t.failures.length).toBeGreaterThan(0);
    expect(t.failures[0]).toMatch(/^HTTP 500/);
  });

  it('a cancel before the switch decommissions the new half and leaves the old one serving', async () => {
    const markerDir = await mkdtemp(path.join(dir, 'markers-'));
    const knownHosts = path.join(dir, 'cyan_known_hosts');
    await writeFile(knownHosts, '');
    const cfg = await config('cyan', markerDir, knownHosts);
    const before = await pool();
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'farm', 'v7-slow'));
    const deadline = Date.now() + 30_000;
    let s = await getSummary(env.client, handle.workflowId).catch(() => undefined);
    while (
      !(s?.steps[0]?.doubleHalf?.phase === 'deploying' && s.steps[0].counts.running > 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      s = await getSummary(env.client, handle.workflowId).catch(() => undefined);
    }
    expect(s?.steps[0]?.doubleHalf?.phase).toBe('deploying');
    const { cancelRollout } = await import('../../src/temporal/client');
    await cancelRollout(env.client, handle.workflowId, 'U_ALICE', 'wrong release');
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.summary.steps[0]?.doubleHalf).toMatchObject({
      phase: 'rolled-back',
      old: { state: 'serving' },
      new: { names: ['cyan1', 'cyan2'], state: 'decommissioned' },
    });
    expect(result.summary.steps[0]?.doubleHalf?.problem).toMatch(/^stopped before the switch \(cancelled by U_ALICE/);
    expect(await markersIn(markerDir)).toEqual(['decommissioned-cyan1', 'decommissioned-cyan2']);
    expect(await pool()).toEqual(before);
  });
});
