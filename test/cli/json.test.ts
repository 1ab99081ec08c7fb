// `--json` on every data command of the real CLI (a `rollout worker` process, local-transport targets): each
// prints one JSON object that parses and carries the fields the README's "JSON output" table documents.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSummary } from '../../workflows/messages';
import { waitForSummary } from '../support/temporal';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from './helpers';

const address = inject('temporalAddress');
const taskQueue = `cli-json-${randomBytes(4).toString('hex')}`;
const fixture = localConfig(
  {
    paced: {
      targets: ['tag:web'],
      approvers: ['cli:ops'],
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: [1, 2],
          childSteps: [{ name: 'work', script: 'sleep 15; touch done' }],
        },
      ],
    },
    gated: {
      targets: ['a'],
      approvers: ['cli:ops'],
      process: [
        { type: 'manual', name: 'go-ahead', instructions: 'say go' },
        { name: 'ship', script: 'printf %s #{Release} > version' },
      ],
    },
    quick: { targets: ['a'], process: [{ name: 'ship', script: 'printf %s #{Release} > quick' }] },
  },
  ['a', 'b', 'c'],
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

/** Runs the command; its stdout must be exactly one JSON object with every `fields` key. */
async function json(expectedCode: number, fields: string[], ...args: string[]): Promise<Record<string, any>> {
  const r = await cli(...args);
  expect(r.code, `${args.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(expectedCode);
  const parsed = JSON.parse(r.stdout) as Record<string, any>;
  expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  for (const f of fields) expect(parsed, `${args.join(' ')} lacks "${f}"`).toHaveProperty(f);
  return parsed;
}

const waitForStatus = (id: string, pred: (s: RolloutSummary) => boolean) => waitForSummary(client, id, pred);

describe('--json on every data command', () => {
  it('validate: ok with counts, or the problems with their positions', async () => {
    const ok = await json(
      0,
      ['ok', 'file', 'targets', 'deployables', 'warnings'],
      'validate',
      fixture.configPath,
      '--json',
    );
    expect(ok).toMatchObject({ ok: true, targets: 3, deployables: ['paced', 'gated', 'quick'] });
    const bad = path.join(fixture.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'targets: {}\ndeployables:\n  x:\n    targets: []\n    process: [{ name: s, script: true, colour: 1 }]\n',
    );
    const no = await json(1, ['ok', 'file', 'problems'], 'validate', bad, '--json');
    expect(no.ok).toBe(false);
    expect(no.problems).toContain(`deployables.x.process[0].colour: unknown field (at ${bad}:5:48)`);
  });

  it('start --plan: the preview, and nothing started', async () => {
    const p = await json(
      0,
      ['deployable', 'release', 'requestedBy', 'targets', 'steps', 'freezes', 'configHash'],
      'start',
      'paced',
      'v1',
      '--plan',
      '--json',
      '--as',
      'cli:ops',
    );
    expect(p.targets).toEqual(['a', 'b', 'c']);
    expect(p.steps[0]).toMatchObject({
      type: 'rolling',
      name: 'deploy',
      configuredWindow: 'ramp 1, 2',
      stages: [
        { stage: 1, targets: ['a'] },
        { stage: 2, targets: ['b', 'c'] },
      ],
    });
    expect(p.configHash).toMatch(/^[0-9a-f]{16}$/);
    expect(p.lock).toBeUndefined();
    const list = await json(0, ['deployables'], 'list', '--json');
    const paced = (list.deployables as Array<{ deployable: string; running: unknown; recent: unknown[] }>).find(
      (d) => d.deployable === 'paced',
    );
    expect(paced?.running ?? null).toBeNull();
    expect(paced?.recent ?? []).toEqual([]);
  });

  it('start, status, decide, pause, window, resume, cancel, list, history, lock, unlock, rollback', async () => {
    const startFields = ['rolloutId', 'deployable', 'release', 'requestedBy', 'targets', 'position'];
    const gated = await json(0, startFields, 'start', 'gated', 'v1', '--json', '--as', 'cli:ops');
    expect(gated).toMatchObject({ deployable: 'gated', release: 'v1', targets: 1, position: 0 });
    const waiting = await waitForStatus(gated.rolloutId, (s) => s.pendingDecisions.length > 0);
    const status = await json(
      0,
      ['rolloutId', 'status', 'steps', 'pendingDecisions'],
      'status',
      gated.rolloutId,
      '--json',
    );
    expect(status.status).toBe('running');
    const decided = await json(
      0,
      ['outcome', 'result'],
      'decide',
      gated.rolloutId,
      waiting.pendingDecisions[0]!.id,
      'proceed',
      '--as',
      'cli:ops',
      '--json',
    );
    expect(decided.outcome).toBe('accepted');
    expect(decided.result).toMatchObject({ choice: 'proceed', by: 'cli:ops' });
    // A refused answer is JSON too (exit 1): no such decision.
    const refused = await json(
      1,
      ['outcome', 'reason'],
      'decide',
      gated.rolloutId,
      'd99',
      'proceed',
      '--as',
      'cli:ops',
      '--json',
    );
    expect(refused.outcome).toBe('rejected');

    const paced = await json(0, startFields, 'start', 'paced', 'v1', '--json', '--as', 'cli:ops');
    await waitForStatus(paced.rolloutId, (s) => s.steps[0]?.state === 'running');
    for (const [what, ...rest] of [['pause'], ['window', '2'], ['resume']] as const) {
      const r = await json(0, ['outcome', 'result'], what, paced.rolloutId, ...rest, '--as', 'cli:ops', '--json');
      expect(r.outcome, what).toBe('accepted');
      expect(r.result, what).toHaveProperty('message');
    }
    const cancelled = await json(0, ['outcome', 'result'], 'cancel', paced.rolloutId, '--as', 'cli:ops', '--json');
    expect(cancelled.outcome).toBe('accepted');
    expect(cancelled.result).toHaveProperty('status');

    const list = await json(0, ['deployables'], 'list', '--json');
    expect((list.deployables as Array<{ deployable: string }>).map((d) => d.deployable)).toEqual(
      expect.arrayContaining(['paced', 'gated']),
    );
    await waitForStatus(gated.rolloutId, (s) => s.status !== 'running');
    const history = await json(
      0,
      ['deployable', 'lock', 'releases', 'targets', 'lockEvents'],
      'history',
      'gated',
      '--json',
    );
    expect(history.deployable).toBe('gated');

    const lock = await json(
      0,
      ['deployable', 'holder', 'reason', 'since'],
      'lock',
      'quick',
      'maintenance',
      '--as',
      'cli:ops',
      '--json',
    );
    expect(lock).toMatchObject({ deployable: 'quick', holder: 'cli:ops', reason: 'maintenance' });
    const unlock = await json(0, ['deployable', 'unlocked'], 'unlock', 'quick', '--as', 'cli:ops', '--json');
    expect(unlock.unlocked).toMatchObject({ holder: 'cli:ops' });
    // No earlier release to roll back to: refused, as JSON.
    const rollback = await json(2, ['error'], 'rollback', 'quick', '--json');
    expect(rollback.error).toMatch(/quick/);

    // start --wait --json: one object at the end, with the final status.
    const done = await json(0, [...startFields, 'status'], 'start', 'quick', 'v1', '--wait', '--json');
    expect(done.status).toBe('succeeded');
  }, 300_000);
});
