// `rollout list | history | rollback | lock | unlock` end to end: the real CLI as child processes, a `rollout
// worker` process, local-transport targets and the shared Temporal dev server. The --json outputs are parsed and
// must carry the fields the README documents.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSummary } from '../../workflows/messages';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from './helpers';

const address = inject('temporalAddress');
const taskQueue = `cli-releases-${randomBytes(4).toString('hex')}`;
const fixture = localConfig({
  web: {
    targets: ['tag:web'],
    process: [
      {
        type: 'rolling',
        name: 'deploy',
        window: 1,
        childSteps: [{ name: 'write', script: 'printf %s #{Release} > version' }],
      },
    ],
  },
});
const env = cliEnv({ TEMPORAL_ADDRESS: address, ROLLOUT_TASK_QUEUE: taskQueue, ROLLOUT_CONFIG: fixture.configPath });
const cli = (...args: string[]) => runCli(args, env);

let worker: CliProcess;

beforeAll(async () => {
  worker = spawnCli(['worker'], env);
  await worker.waitFor(new RegExp(`worker ready on task queue ${taskQueue}`), 90_000);
});

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await killAllCli();
  rmSync(fixture.dir, { recursive: true, force: true });
});

async function json<T = Record<string, any>>(
  ...args: string[]
): Promise<{ code: number | null; body: T; stderr: string }> {
  const r = await cli(...args);
  return { code: r.code, body: JSON.parse(r.stdout) as T, stderr: r.stderr };
}

/** `rollout history web --json` until `pred` holds (the queue records a rollout a moment after it ends). */
async function historyUntil(pred: (h: Record<string, any>) => boolean): Promise<Record<string, any>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { code, body } = await json('history', 'web', '--json');
    expect(code).toBe(0);
    if (pred(body)) return body;
    if (Date.now() > deadline) throw new Error(`history never matched: ${JSON.stringify(body)}`);
  }
}

const versions = () => ['a', 'b', 'c'].map((t) => readFileSync(path.join(fixture.workdir(t), 'version'), 'utf8'));

describe('rollout history, lock, unlock, list, rollback', () => {
  it('each --json output parses and carries the documented fields', async () => {
    const empty = await json('history', 'web', '--json');
    expect(empty.code).toBe(0);
    expect(empty.body).toEqual({ deployable: 'web', lock: null, releases: [], targets: {}, lockEvents: [] });
    const nothing = await json('rollback', 'web', '--json');
    expect(nothing.code).toBe(2);
    expect(nothing.body.error).toMatch(/web has no release history yet/);

    for (const release of ['v1', 'v2']) {
      const r = await cli('start', 'web', release, '--wait', '--as', 'cli:dev');
      expect(r.code, r.stderr).toBe(0);
    }
    const h = await historyUntil((b) => b.releases.length === 2);
    expect(h.releases.map((r: { release: string }) => r.release)).toEqual(['v2', 'v1']); // newest first
    expect(Object.keys(h.releases[0]).sort()).toEqual(
      [
        'rolloutId',
        'release',
        'outcome',
        'requestedBy',
        'requestedAt',
        'startedAt',
        'endedAt',
        'rollbackOf',
        'targetsStarted',
        'targetsReceived',
        'targets',
      ].sort(),
    );
    expect(h.releases[0]).toMatchObject({
      outcome: 'succeeded',
      requestedBy: 'cli:dev',
      rollbackOf: null,
      targetsStarted: 3,
      targetsReceived: 3,
      targets: [
        { name: 'a', received: true },
        { name: 'b', received: true },
        { name: 'c', received: true },
      ],
    });
    expect(h.targets).toEqual({
      a: { release: 'v2', rolloutId: h.releases[0].rolloutId, at: h.releases[0].endedAt },
      b: { release: 'v2', rolloutId: h.releases[0].rolloutId, at: h.releases[0].endedAt },
      c: { release: 'v2', rolloutId: h.releases[0].rolloutId, at: h.releases[0].endedAt },
    });

    const lock = await json('lock', 'web', 'db', 'migration', '--as', 'cli:ops', '--json');
    expect(lock.code, lock.stderr).toBe(0);
    expect(lock.body).toEqual({
      deployable: 'web',
      holder: 'cli:ops',
      reason: 'db migration',
      since: expect.any(String),
    });
    const refused = await cli('start', 'web', 'v3', '--as', 'cli:dev');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe(''); // no rollout id: nothing started
    expect(refused.stderr).toMatch(/^rollout start: not started: web is locked by cli:ops since \S+: db migration$/m);
    const notYours = await json('lock', 'web', 'mine', '--as', 'cli:dev', '--json');
    expect(notYours.code).toBe(1);
    expect(notYours.body).toMatchObject({ refusal: 'Locked', error: expect.stringMatching(/locked by cli:ops/) });
    const taken = await json('lock', 'web', 'incident', '42', '--take-over', '--as', 'cli:dev', '--json');
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.body).toMatchObject({
      holder: 'cli:dev',
      reason: 'incident 42',
      takenFrom: { holder: 'cli:ops', reason: 'db migration', since: lock.body.since },
    });

    const list = await json('list', '--json');
    expect(list.code).toBe(0);
    const web = list.body.deployables.find((d: { deployable: string }) => d.deployable === 'web');
    expect(web).toMatchObject({ lock: { holder: 'cli:dev', reason: 'incident 42' }, running: null, queued: [] });
    expect(web.recent.map((r: { release: string; status: string }) => [r.release, r.status])).toEqual([
      ['v2', 'succeeded'],
      ['v1', 'succeeded'],
    ]);
    expect(Object.keys(web.recent[0]).sort()).toEqual(['endedAt', 'release', 'requestedBy', 'rolloutId', 'status']);

    const events = (await historyUntil(() => true)).lockEvents;
    expect(events.map((e: { kind: string; by: string; from?: string }) => [e.kind, e.by, e.from])).toEqual([
      ['taken-over', 'cli:dev', 'cli:ops'],
      ['locked', 'cli:ops', undefined],
    ]);

    const unlock = await json('unlock', 'web', '--as', 'cli:dev', '--json');
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.body).toMatchObject({ deployable: 'web', unlocked: { holder: 'cli:dev', reason: 'incident 42' } });

    const rb = await json('rollback', 'web', '--as', 'cli:ops', '--json');
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.body).toEqual({
      rolloutId: expect.stringMatching(/^rollout-web-v1-/),
      deployable: 'web',
      release: 'v1',
      rollbackOf: h.releases[0].rolloutId,
      fromRelease: 'v2',
      partial: false,
      targets: ['a', 'b', 'c'],
      position: 0,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await json<RolloutSummary>('status', rb.body.rolloutId, '--json');
      if (s.code === 0 && s.body.status === 'succeeded') break;
      if (Date.now() > deadline) throw new Error(`rollback did not succeed: ${JSON.stringify(s.body)}`);
    }
    expect(versions()).toEqual(['v1', 'v1', 'v1']);
    const after = await historyUntil((b) => b.releases.length === 3);
    expect(after.releases[0]).toMatchObject({ release: 'v1', rollbackOf: h.releases[0].rolloutId });
    const text = await cli('history', 'web');
    expect(text.stdout).toMatch(/^v1 +succeeded \(rollback\) +3\/3 +cli:ops/m);
    // Some twenty CLI processes in a row, each starting Node and tsx: more than the default two minutes on a busy machine.
  }, 300_000);

  it('every new command has --help with an example', async () => {
    for (const [cmd, example] of [
      ['list', 'rollout list --json'],
      ['history', 'rollout history web-farm'],
      ['rollback', 'rollout rollback web-farm'],
      ['lock', 'rollout lock web-farm investigating'],
      ['unlock', 'rollout unlock web-farm'],
    ] as const) {
      const r = await cli(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
      expect(r.stdout).toContain(`$ ${example}`);
    }
  });
});
