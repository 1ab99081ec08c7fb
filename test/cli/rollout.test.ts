// The CLI end to end: a `rollout worker` process and `rollout start/status/cancel/decide` processes against the
// shared Temporal dev server, with targets that run locally (no sshd).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSummary } from '../../workflows/messages';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import { loadConfigFile } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { startRollout } from '../../src/temporal/client';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from './helpers';

const address = inject('temporalAddress');
const taskQueue = `cli-${randomBytes(4).toString('hex')}`;
const fixture = localConfig({
  web: {
    targets: ['tag:web'],
    variables: { Greeting: 'hello' },
    process: [
      {
        type: 'rolling',
        name: 'deploy',
        window: 2,
        childSteps: [
          { name: 'write', script: 'printf %s #{Release} > version' },
          { name: 'greet', script: 'printf %s #{Greeting} > greeting' },
        ],
      },
    ],
  },
  // In-flight targets finish their chain when a rollout is cancelled; the next step must not run.
  slow: {
    targets: ['a', 'b'],
    process: [
      // Long enough for several CLI processes (status, cancel) to run while it sleeps, even on a loaded machine.
      { name: 'sleepy', timeoutSec: 120, script: 'sleep 25' },
      { name: 'after', script: 'touch after' },
    ],
  },
  flaky: {
    targets: ['tag:web'],
    process: [
      {
        type: 'rolling',
        name: 'deploy',
        window: 1,
        childSteps: [
          { name: 'install', script: '[ #{Machine.Name} != b ] || { echo "disk full" >&2; exit 7; }; touch installed' },
        ],
      },
    ],
  },
});
const env = cliEnv({ TEMPORAL_ADDRESS: address, ROLLOUT_TASK_QUEUE: taskQueue, ROLLOUT_CONFIG: fixture.configPath });
const cli = (...args: string[]) => runCli(args, env);

let worker: CliProcess;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  worker = spawnCli(['worker'], env);
  await worker.waitFor(
    new RegExp(`worker ready on task queue ${taskQueue} \\(temporal ${address.replace(/\./g, '\\.')}\\)`),
    90_000,
  );
});

afterAll(async () => {
  if (worker) {
    const r = await worker.stop('SIGTERM');
    // Graceful: the worker exits by itself on SIGTERM, with code 0.
    expect(r.code).toBe(0);
    // A log line now (JSON on stdout, like every line of the worker's).
    expect(r.stdout).toMatch(/"msg":"rollout: shutting down the worker/);
  }
  await killAllCli();
  await connection?.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

async function statusJson(id: string): Promise<RolloutSummary> {
  const r = await cli('status', id, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RolloutSummary;
}

async function waitForStatus(
  id: string,
  pred: (s: RolloutSummary) => boolean,
  timeoutMs = 60_000,
): Promise<RolloutSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await statusJson(id);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`condition not reached; last: ${JSON.stringify(s)}`);
  }
}

describe('rollout start / status', () => {
  it('start --wait runs the rollout to success; files appear in the targets’ workdirs; status shows counts', async () => {
    const r = await cli('start', 'web', 'v2.1', '--wait', '--var', 'Greeting=hi there', '--as', 'cli:tester');
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^rollout-web-v2\.1-[0-9a-f]{8}$/);
    expect(r.stderr).toMatch(/\[succeeded\] deploy: succeeded 3/);
    expect(r.stderr).toMatch(new RegExp(`${id.replace(/\./g, '\\.')} succeeded`));
    for (const t of ['a', 'b', 'c']) {
      expect(readFileSync(path.join(fixture.workdir(t), 'version'), 'utf8')).toBe('v2.1');
      expect(readFileSync(path.join(fixture.workdir(t), 'greeting'), 'utf8')).toBe('hi there');
    }

    const status = await cli('status', id);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${id.replace(/\./g, '\\.')}: succeeded$`, 'm'));
    expect(status.stdout).toMatch(/requested by cli:tester, 3 targets/);
    expect(status.stdout).toMatch(/deploy \(rolling, window 2\): done — succeeded 3/);

    const json = await statusJson(id);
    expect(json.status).toBe('succeeded');
    expect(json.steps[0]?.counts.succeeded).toBe(3);

    const target = await cli('status', id, '--target', 'b');
    expect(target.code).toBe(0);
    expect(target.stdout).toMatch(/\/ b: succeeded/);
    expect(target.stdout).toMatch(/write: succeeded, exit code 0/);
    expect((await cli('status', id, '--target', 'zz')).code).toBe(1);
  });

  it('a hostile release exits 2, prints the release rule and starts nothing', async () => {
    const marker = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
    const queue = `cli-hostile-${randomBytes(4).toString('hex')}`;
    const r = await runCli(['start', 'web', `v2; touch ${marker}`], { ...env, ROLLOUT_TASK_QUEUE: queue });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(''); // no rollout id
    expect(r.stderr).toMatch(/not started/);
    expect(r.stderr).toMatch(/a release starts with a letter or digit and holds only letters, digits and \. _ - \+/);
    expect(existsSync(marker)).toBe(false);
    const started: string[] = [];
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${queue}'` })) started.push(wf.workflowId);
    expect(started).toEqual([]);
  });

  it('an undeclared --var exits 2 and names what the deployable declares', async () => {
    const r = await cli('start', 'web', 'v3', '--var', 'Nope=1');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown variable "Nope": web declares Greeting/);
  });

  it('status of an unknown rollout exits 1', async () => {
    const r = await cli('status', 'rollout-nothing-here');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no such rollout/);
  });
});

describe('rollout cancel', () => {
  it('cancels a running rollout; a second cancel is rejected', async () => {
    const r = await cli('start', 'slow', 'v1');
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    await waitForStatus(id, (s) => (s.steps[0]?.inFlightCount ?? 0) === 2);
    const running = await cli('status', id);
    expect(running.stdout).toMatch(/sleepy \(script.*\): running — running 2/);
    expect(running.stdout).toMatch(/in flight: a, b/);

    const c = await cli('cancel', id, '--as', 'cli:ops', '--reason', 'wrong build');
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^accepted: .*cancelled by cli:ops: wrong build/);
    const end = await waitForStatus(id, (s) => s.status !== 'running');
    expect(end.status).toBe('cancelled');
    expect(end.steps[1]?.state).toBe('skipped');
    for (const t of ['a', 'b']) expect(existsSync(path.join(fixture.workdir(t), 'after'))).toBe(false);
    const human = await cli('status', id);
    expect(human.stdout).toMatch(/reason: cancelled by cli:ops: wrong build/);

    const again = await cli('cancel', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^rejected: /m);
  });
});

describe('rollout decide', () => {
  it('answers a pending decision; answering it again is rejected', async () => {
    const r = await cli('start', 'flaky', 'v1');
    const id = r.stdout.trim();
    const s = await waitForStatus(id, (x) => x.pendingDecisions.length > 0);
    const d = s.pendingDecisions[0]!;
    expect(d.target).toBe('b');
    const human = await cli('status', id);
    expect(human.stdout).toMatch(new RegExp(`${d.id}: failure on target b, step deploy/install, exit code 7`));
    expect(human.stdout).toMatch(/\| disk full/);

    const ok = await cli('decide', id, d.id, 'ignore', '--as', 'cli:ops');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^accepted: ${d.id} of ${id} answered "ignore" by cli:ops`));
    const end = await waitForStatus(id, (x) => x.status !== 'running');
    expect(end.status).toBe('succeeded');
    const after = await cli('status', id);
    expect(after.stdout).toMatch(new RegExp(`${d.id}: .*→ ignore by cli:ops`));

    const again = await cli('decide', id, d.id, 'retry');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^rejected: /m);
  });

  it('with no worker on the rollout’s task queue, an answer is not delivered: exit 3, nothing changed', async () => {
    const queue = `cli-noworker-${randomBytes(4).toString('hex')}`;
    // Through the deployable's queue nothing is confirmed without a worker: exit 3 within the bounded time.
    const t0 = Date.now();
    const r = await runCli(['start', 'slow', 'v1'], { ...env, ROLLOUT_TASK_QUEUE: queue });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^not confirmed: .*is a worker running\?/m);
    expect(Date.now() - t0).toBeLessThan(40_000);
    await client.workflow
      .getHandle(deployableWorkflowId('slow', queue))
      .terminate('test cleanup')
      .catch(() => undefined);
    // A rollout workflow on a queue nobody serves: answers and cancels are not delivered either.
    const plan = buildPlan(loadConfigFile(fixture.configPath), {
      deployable: 'slow',
      release: 'v1',
      requestedBy: 'cli:test',
    });
    const id = (await startRollout(client, queue, plan)).workflowId;
    try {
      const d = await cli('decide', id, 'd1', 'retry', '--timeout', '1');
      expect(d.code).toBe(3);
      expect(d.stderr).toMatch(/^not delivered: .*Nothing has changed/m);
      const c = await cli('cancel', id, '--timeout', '1');
      expect(c.code).toBe(3);
    } finally {
      await client.workflow.getHandle(id).terminate('test cleanup');
    }
  });
});
