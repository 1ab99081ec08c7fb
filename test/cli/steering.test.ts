// Steering and freezes through the real CLI: a `rollout worker` process, `rollout pause|resume|window` and
// `rollout start` during a deploy freeze, with local-transport targets (exit codes 0, 1 rejected, 2 refused,
// 3 not delivered).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSummary } from '../../workflows/messages';
import { loadConfigFile } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { startRollout } from '../../src/temporal/client';
import { waitForSummary } from '../support/temporal';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from './helpers';

const address = inject('temporalAddress');
const taskQueue = `cli-steer-${randomBytes(4).toString('hex')}`;
const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
const fixture = localConfig(
  {
    paced: {
      targets: ['tag:web'],
      approvers: ['cli:ops'],
      process: [
        { type: 'rolling', name: 'deploy', window: 1, childSteps: [{ name: 'work', script: 'sleep 3; touch done' }] },
      ],
    },
    frozen: {
      targets: ['a'],
      freezeOverriders: ['cli:cto'],
      freezes: [{ name: 'audit', from: hourAgo, until: inAnHour, reason: 'the yearly audit' }],
      process: [{ name: 'ship', script: 'printf %s #{Release} > version' }],
    },
  },
  ['a', 'b', 'c', 'd', 'e', 'f'],
);
const env = cliEnv({ TEMPORAL_ADDRESS: address, ROLLOUT_TASK_QUEUE: taskQueue, ROLLOUT_CONFIG: fixture.configPath });
const cli = (...args: string[]) => runCli(args, env);

let worker: CliProcess;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  worker = spawnCli(['worker'], env);
  await worker.waitFor(new RegExp(`worker ready on task queue ${taskQueue}`), 90_000);
});

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await killAllCli();
  await connection?.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

async function statusJson(id: string): Promise<RolloutSummary> {
  const r = await cli('status', id, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RolloutSummary;
}

/** Waits on the summary query (a CLI process per poll would take seconds each on a busy machine). */
const waitForStatus = (id: string, pred: (s: RolloutSummary) => boolean) => waitForSummary(client, id, pred);

describe('rollout pause / resume / window', () => {
  it('pause, a refused stranger and second pause, status, window, resume: each with its exit code', async () => {
    const start = await cli('start', 'paced', 'v1', '--as', 'cli:ops');
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    await waitForStatus(id, (s) => s.steps[0]?.state === 'running');

    const pause = await cli('pause', id, '--as', 'cli:ops', '--reason', 'looking at the graphs');
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/^accepted: .* paused: targets in flight finish their chains/m);
    const stranger = await cli('pause', id, '--as', 'cli:mallory');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/^rejected: the rollout refused the pause: cli:mallory is not allowed to pause/m);

    const again = await cli('pause', id, '--as', 'cli:ops');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already paused \(by cli:ops/);

    const paused = await waitForStatus(id, (s) => s.steps[0]?.inFlightCount === 0);
    expect(paused.paused).toMatchObject({ by: 'cli:ops', reason: 'looking at the graphs' });
    const text = await cli('status', id);
    expect(text.stdout).toMatch(/PAUSED by cli:ops since .*: looking at the graphs/);
    expect(text.stdout).toMatch(/^steering:\n {2}paused by cli:ops at /m);

    const bad = await cli('window', id, 'lots', '--as', 'cli:ops');
    expect(bad.code).toBe(2);
    const window = await cli('window', id, '3', '--as', 'cli:ops');
    expect(window.code, window.stderr).toBe(0);
    expect(window.stdout).toMatch(/window set to 3 for the running rolling step and every later one/);

    const resume = await cli('resume', id, '--as', 'cli:ops');
    expect(resume.code, resume.stderr).toBe(0);
    const done = await waitForStatus(id, (s) => s.status !== 'running');
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]).toMatchObject({ window: 3, configuredWindow: '1' });
    expect(done.steering?.map((r) => r.kind)).toEqual(['paused', 'window', 'resumed']);

    const ended = await cli('resume', id, '--as', 'cli:ops');
    expect(ended.code).toBe(1);
  });

  it('not delivered when no worker serves the rollout: exit 3', async () => {
    const queue = `${taskQueue}-nobody`;
    const plan = buildPlan(loadConfigFile(fixture.configPath), {
      deployable: 'paced',
      release: 'v1',
      requestedBy: 'cli:ops',
    });
    const id = (await startRollout(client, queue, plan)).workflowId;
    try {
      for (const args of [
        ['pause', id],
        ['resume', id],
        ['window', id, '2'],
      ]) {
        const r = await cli(...args, '--as', 'cli:ops', '--timeout', '1');
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.stderr).toMatch(/^not delivered: /m);
      }
    } finally {
      await client.workflow.getHandle(id).terminate('test cleanup');
    }
  });
});

describe('rollout start during a deploy freeze', () => {
  it('is refused saying until when; a stranger may not override; a freeze overrider with a reason starts it', async () => {
    const refused = await cli('start', 'frozen', 'v1', '--as', 'cli:dev');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^rollout start: not started: frozen is frozen until \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC \(audit: the yearly audit\); cli:cto may override it with a reason/m,
    );
    const stranger = await cli('start', 'frozen', 'v1', '--as', 'cli:dev', '--override-freeze', 'please');
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/cli:dev may not override it/);

    const ok = await cli(
      'start',
      'frozen',
      'v1',
      '--as',
      'cli:cto',
      '--override-freeze',
      'hotfix for the audit',
      '--wait',
    );
    expect(ok.code, ok.stderr).toBe(0);
    const s = await statusJson(ok.stdout.trim());
    expect(s.freezeOverride).toMatchObject({ by: 'cli:cto', reason: 'hotfix for the audit', freezes: ['audit'] });
    expect(s.steering).toEqual([expect.objectContaining({ kind: 'freezeOverridden', by: 'cli:cto' })]);
    const text = await cli('status', ok.stdout.trim());
    expect(text.stdout).toMatch(/freeze audit overridden by cli:cto at .*: hotfix for the audit/);
  });
});
