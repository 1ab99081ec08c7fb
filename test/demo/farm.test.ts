// The demo web farm (dev/farm/farm.ts + examples/web-farm/): real Temporal, real app servers, HAProxy or mini-lb,
// SSH or local transport. Rolls out with the example config exactly as a user would.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { startDemoFarm, type DemoFarm } from '../../dev/farm/farm';
import { decide, startRollout } from '../../src/temporal/client';
import { realTransports } from '../support/rollouts';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';

const execFileP = promisify(execFile);

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  env = await temporalTestEnv('demo-farm');
  transports = realTransports();
  await env.startWorker(transports);
});

afterAll(async () => {
  await env?.close();
  await transports?.close();
});

interface Traffic {
  count: number;
  failures: string[];
  /** server name → versions it answered with */
  seen: Record<string, Set<string>>;
}

/**
 * Requests through the load balancer until stopped (bounded: at most `maxRequests`, at most `maxMs`), a few
 * clients at once; every 10th request is slow (300 ms) so that drains have requests in flight to wait for.
 */
function traffic(url: string, { clients = 4, maxRequests = 50_000, maxMs = 110_000 } = {}) {
  const result: Traffic = { count: 0, failures: [], seen: {} };
  const deadline = Date.now() + maxMs;
  let stopping = false;
  const client = async () => {
    while (!stopping && result.count < maxRequests && Date.now() < deadline) {
      const n = ++result.count;
      const target = n % 10 === 0 ? `${url}/slow?ms=300` : `${url}/`;
      try {
        const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status !== 200) {
          result.failures.push(`#${n} ${target}: HTTP ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        const body = JSON.parse(text) as { name: string; version: string };
        (result.seen[body.name] ??= new Set()).add(body.version);
      } catch (e) {
        result.failures.push(
          `#${n} ${target}: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`,
        );
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));
  return {
    result,
    async stop(): Promise<Traffic> {
      stopping = true;
      await running;
      return result;
    },
  };
}

/** Polls the pool state (every 50 ms) and keeps every state each server was seen in. */
function watchPool(farm: DemoFarm) {
  const seen: Record<string, Set<string>> = {};
  let stopping = false;
  const running = (async () => {
    while (!stopping) {
      const st = await farm.poolState().catch(() => ({}) as Record<string, string>);
      for (const [k, v] of Object.entries(st)) (seen[k] ??= new Set()).add(v);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await running;
      return seen;
    },
  };
}

function planFor(farm: DemoFarm, release: string) {
  return buildPlan(loadConfigFile(farm.configPath), { deployable: farm.deployable, release, requestedBy: 'U_DEMO' });
}

const sorted = (s: Set<string> | undefined) => [...(s ?? [])].sort();

async function rollsOutV2WithZeroDowntime(farm: DemoFarm) {
  expect(await farm.versions()).toEqual({ web1: 'v1', web2: 'v1', web3: 'v1', web4: 'v1' });
  expect(await farm.poolState()).toEqual({ web1: 'UP', web2: 'UP', web3: 'UP', web4: 'UP' });
  const load = traffic(farm.lbUrl);
  const pool = watchPool(farm);
  const started = Date.now();
  const handle = await startRollout(env.client, env.taskQueue, planFor(farm, 'v2'));
  const result = await handle.result();
  const elapsed = Date.now() - started;
  // A little more traffic after the end, so the last server back in the pool is seen answering too (bounded).
  const until = Date.now() + 10_000;
  while (Date.now() < until && !['web1', 'web2', 'web3', 'web4'].every((n) => load.result.seen[n]?.has('v2'))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const states = await pool.stop();
  const t = await load.stop();

  expect(result.status).toBe('succeeded');
  expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 4 });
  expect(await farm.versions()).toEqual({ web1: 'v2', web2: 'v2', web3: 'v2', web4: 'v2' });
  expect(await farm.poolState()).toEqual({ web1: 'UP', web2: 'UP', web3: 'UP', web4: 'UP' });
  // Zero downtime: not one failed request through the load balancer, and traffic covered the whole rollout.
  expect(t.failures).toEqual([]);
  expect(t.count).toBeGreaterThan(40);
  for (const name of ['web1', 'web2', 'web3', 'web4']) {
    expect(sorted(t.seen[name]), name).toEqual(['v1', 'v2']);
    // Each server left the pool (drain) and came back.
    expect(sorted(states[name]), name).toEqual(['DRAIN', 'UP']);
  }
  return { elapsed, requests: t.count };
}

describe('demo farm over SSH, behind HAProxy', () => {
  let farm: DemoFarm;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'rollout-demo-farm-'));
    farm = await startDemoFarm({ stateDir, useSsh: true, haproxy: true, sshBaseAddress: '127.0.0.61', sshPort: 2222 });
  });

  afterAll(async () => {
    await farm?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('(a) rolls out v2 one server at a time: every server answers v2, all back in the pool, no failed request', async () => {
    expect(farm.transport).toBe('ssh');
    expect(farm.lb).toBe('haproxy');
    const { elapsed, requests } = await rollsOutV2WithZeroDowntime(farm);
    console.log(`[demo farm ssh+haproxy] v2 rolled out in ${elapsed} ms under ${requests} requests`);
  });

  it('(b) the documented broken release: web3 fails its sanity test, Exclude leaves it out of the pool', async () => {
    const before = await farm.versions();
    const load = traffic(farm.lbUrl);
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm, 'v3-broken'));
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({
      kind: 'failure',
      step: 'deploy-web',
      target: 'web3',
      childStep: 'sanity-test',
      exitCode: 1,
    });
    expect(d.tail).toContain('health check answered 500');
    // While the decision waits, web3 is drained (window 1: web4 has not started).
    expect(await farm.poolState()).toEqual({ web1: 'UP', web2: 'UP', web3: 'DRAIN', web4: 'UP' });
    expect(await farm.versions()).toMatchObject({ web1: 'v3-broken', web2: 'v3-broken', web4: before.web4 });

    const answer = await decide(env.client, handle.workflowId, d.id, 'exclude', 'U_DEMO');
    expect(answer.outcome).toBe('accepted');
    const result = await handle.result();
    const t = await load.stop();

    expect(result.status).toBe('succeeded');
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 3, excluded: 1 });
    const pool = await farm.poolState();
    expect(['DRAIN', 'MAINT']).toContain(pool.web3);
    expect(pool).toMatchObject({ web1: 'UP', web2: 'UP', web4: 'UP' });
    expect(await farm.versions()).toMatchObject({ web1: 'v3-broken', web2: 'v3-broken', web4: 'v3-broken' });
    const health = await fetch(`${farm.servers.find((x) => x.name === 'web3')!.url}/health`);
    expect(health.status).toBe(500);
    // Nothing failed, and the load balancer never sent a request to web3 once it held the broken release.
    expect(t.failures).toEqual([]);
    expect(t.seen.web3?.has('v3-broken') ?? false).toBe(false);
  });

  /**
   * The deploy with a gap a real deploy has (an app restart): `current` is missing for 1.5 s, so the server
   * answers 503 meanwhile. With the drain steps nobody sees it; without them the load balancer keeps sending
   * requests to the server in the gap, so the zero-failure measurement must see failures.
   */
  function gappedPlan(release: string, drain: boolean) {
    const plan = planFor(farm, release);
    const step = plan.steps[0];
    if (step?.type !== 'rolling') throw new Error('the demo config starts with a rolling step');
    step.childSteps = step.childSteps
      .filter((c) => drain || (c.name !== 'remove-from-lb' && c.name !== 'wait-for-drain'))
      .map((c) =>
        c.name === 'deploy' ? { ...c, script: c.script.replace('ln -sfn', 'rm -f current; sleep 1.5\nln -sfn') } : c,
      );
    return plan;
  }

  async function rollOutUnderLoad(plan: ReturnType<typeof planFor>) {
    const load = traffic(farm.lbUrl);
    const result = await (await startRollout(env.client, env.taskQueue, plan)).result();
    const t = await load.stop();
    return { result, t };
  }

  it('(d) negative control: the same gapped deploy fails requests without the drain steps, and none with them', async () => {
    // Start from a farm where every server is up (b left web3 broken and out of the pool).
    expect((await rollOutUnderLoad(planFor(farm, 'v4'))).result.status).toBe('succeeded');
    expect(await farm.poolState()).toEqual({ web1: 'UP', web2: 'UP', web3: 'UP', web4: 'UP' });

    const withDrain = await rollOutUnderLoad(gappedPlan('v5', true));
    expect(withDrain.result.status).toBe('succeeded');
    expect(withDrain.t.failures).toEqual([]);
    expect(withDrain.t.count).toBeGreaterThan(40);

    const noDrain = await rollOutUnderLoad(gappedPlan('v6', false));
    expect(noDrain.result.status).toBe('succeeded');
    expect(await farm.versions()).toEqual({ web1: 'v6', web2: 'v6', web3: 'v6', web4: 'v6' });
    // The measurement can fail: the same load, the same deploy, no drain: requests fail.
    expect(noDrain.t.failures.length).toBeGreaterThan(0);
    console.log(
      `[demo farm control] with drain: 0 of ${withDrain.t.count} failed; without: ${noDrain.t.failures.length} of ${noDrain.t.count}`,
    );
  });

  it('(e) a failing sanity check answered Ignore keeps that server out of the pool, with zero failed requests', async () => {
    // (d)'s last rollout ends with the last server's deploy gap (no drain): the load balancer's health checks bring
    // it back UP shortly after. Wait for that (a condition, bounded), then start from a farm that is all up.
    const allUp = { web1: 'UP', web2: 'UP', web3: 'UP', web4: 'UP' };
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      if (JSON.stringify(await farm.poolState()) === JSON.stringify(allUp)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await farm.poolState()).toEqual(allUp);
    const load = traffic(farm.lbUrl);
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm, 'v7-broken'));
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({ target: 'web3', childStep: 'sanity-test' });
    expect(d.notRun).toBeUndefined(); // the script ran and failed: Ignore is an ordinary ignore
    expect((await decide(env.client, handle.workflowId, d.id, 'ignore', 'U_DEMO')).outcome).toBe('accepted');
    const result = await handle.result();
    const t = await load.stop();
    expect(result.status).toBe('succeeded');
    // add-back-to-lb is skipped for web3 (its `if` reads the failed sanity test's output): web3 stays out.
    const pool = await farm.poolState();
    expect(['DRAIN', 'MAINT']).toContain(pool.web3);
    expect(pool).toMatchObject({ web1: 'UP', web2: 'UP', web4: 'UP' });
    expect(t.failures).toEqual([]);
    expect(t.seen.web3?.has('v7-broken') ?? false).toBe(false);
  });
});

/** Pids of this process's child processes (but the `ps` that lists them). */
async function childPids(): Promise<number[]> {
  const { stdout } = await execFileP('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => Number(pid) > 0 && comm !== 'ps')
    .map(([pid]) => Number(pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('demo farm processes', () => {
  it('stop() leaves no process behind (app servers, HAProxy, sshd)', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'rollout-demo-farm-stop-'));
    try {
      const before = new Set(await childPids());
      const farm = await startDemoFarm({
        stateDir,
        useSsh: true,
        haproxy: true,
        sshBaseAddress: '127.0.0.65',
        sshPort: 2222,
      });
      let started: number[];
      try {
        started = (await childPids()).filter((p) => !before.has(p));
      } finally {
        await farm.stop();
      }
      expect(started.length).toBe(4 + 1 + 4); // app servers, HAProxy, sshd listeners
      expect(started.filter(alive)).toEqual([]);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('demo farm with the local transport, behind mini-lb', () => {
  let farm: DemoFarm;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'rollout-demo-farm-local-'));
    farm = await startDemoFarm({ stateDir, useSsh: false, haproxy: false });
  });

  afterAll(async () => {
    await farm?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('(c) rolls out v2: every server answers v2, all back in the pool, no failed request', async () => {
    expect(farm.transport).toBe('local');
    expect(farm.lb).toBe('mini-lb');
    const { elapsed, requests } = await rollsOutV2WithZeroDowntime(farm);
    console.log(`[demo farm local+mini-lb] v2 rolled out in ${elapsed} ms under ${requests} requests`);
  });
});
