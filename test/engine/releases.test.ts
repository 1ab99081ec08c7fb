// Release history, rollback, partial rollback and locks: the deployable's own workflow against a real Temporal dev
// server and real sshd targets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL } from '../../domain/failures';
import type { RolloutPlan, TargetPlan } from '../../domain/plan';
import { enqueueRollout, isNotFound, refusalOf, rolloutHandle, waitUntilStarted } from '../../src/temporal/client';
import { getReleaseHistory, lockDeployable, unlockDeployable } from '../../src/temporal/deployables';
import { prepareRollback } from '../../src/temporal/rollback';
import type { ReleaseHistory } from '../../workflows/releaseMessages';
import type { SshdFixture } from '../support/sshd';
import { uniqueName, type TemporalTestEnv } from '../support/temporal';
import { configFor, planFor, readTargetFile, startEngineFixture, type EngineFixture } from '../support/rollouts';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 5, baseAddress: '127.0.5.1', queuePrefix: 'releases' });
  ({ sshd, env } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

/** A rolling deploy, one target at a time; each run appends `<release> <epoch ns>` to `marks` on its target. */
function deployableConfig(targets: TargetPlan[], deployable: string, failOn?: { target: string; release: string }) {
  const fail = failOn
    ? `if [ #{Machine.Name} = ${failOn.target} ] && [ #{Release} = ${failOn.release} ]; then echo "health check failed" >&2; exit 5; fi; `
    : '';
  return configFor(targets, {
    [deployable]: {
      targets: ['tag:web'],
      onFailure: 'fail',
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 1,
          childSteps: [
            {
              name: 'install',
              script: `echo #{Release} $(date +%s%N) >> marks; ${fail}printf %s #{Release} > version`,
            },
          ],
        },
      ],
    },
  });
}

/** The lines a target's `marks` file holds: [release, epoch ns]. */
function marks(t: TargetPlan): Array<[string, bigint]> {
  const text = readTargetFile(t, 'marks') ?? '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [release, at] = l.split(' ');
      return [release ?? '', BigInt(at ?? '0')];
    });
}

/** Queues a plan and waits for its rollout to end. */
async function rollOut(plan: RolloutPlan): Promise<string> {
  const { rolloutId } = await enqueueRollout(env.client, env.taskQueue, plan);
  await waitUntilStarted(env.client, rolloutId, 100);
  const result = await rolloutHandle(env.client, rolloutId).result();
  return `${rolloutId} ${result.status}`;
}

/** Polls the deployable's history until `pred` holds (its queue records a rollout a moment after it ends). */
async function historyUntil(deployable: string, pred: (h: ReleaseHistory) => boolean): Promise<ReleaseHistory> {
  const deadline = Date.now() + 30_000;
  let last: ReleaseHistory | undefined;
  for (;;) {
    last = await getReleaseHistory(env.client, env.taskQueue, deployable);
    if (last && pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`history never matched: ${JSON.stringify(last, null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function refusalOfPromise(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return refusalOf(e);
  }
  return undefined;
}

describe('release history and rollback', () => {
  it('history outlives the deleted rollout workflows; rollback restores v1 everywhere; no earlier release is a clear no', async () => {
    const deployable = uniqueName('hist');
    const targets = sshd.targetsFor('history');
    const cfg = deployableConfig(targets, deployable);

    const none = await prepareRollback(env.client, env.taskQueue, cfg, { deployable, requestedBy: 'U_ALICE' });
    expect(none).toEqual({
      ok: false,
      reason: `${deployable} has no release history yet: there is nothing to roll back`,
    });

    const v1 = await rollOut(planFor(cfg, deployable, 'v1'));
    expect(v1).toMatch(/ succeeded$/);
    await historyUntil(deployable, (h) => h.releases.length === 1);
    const onlyV1 = await prepareRollback(env.client, env.taskQueue, cfg, { deployable, requestedBy: 'U_ALICE' });
    expect(onlyV1.ok === false && onlyV1.reason).toMatch(
      /no release of .* succeeded before v1: there is no earlier release/,
    );

    const v2 = await rollOut(planFor(cfg, deployable, 'v2', 'U_BOB'));
    expect(v2).toMatch(/ succeeded$/);
    for (const t of targets) expect(readTargetFile(t, 'version')).toBe('v2');
    await historyUntil(deployable, (h) => h.releases.length === 2);

    // The rollouts' own workflows are deleted (as retention would): gone from Temporal altogether. Deletion is
    // asynchronous on the server: asked again until describe() no longer finds them.
    const ids = [v1, v2].map((s) => s.split(' ')[0] as string);
    for (const workflowId of ids) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        await env.client.workflowService
          .deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } })
          .catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          });
        const gone = await rolloutHandle(env.client, workflowId)
          .describe()
          .then(
            () => false,
            (e: unknown) => isNotFound(e),
          );
        if (gone) break;
        if (Date.now() > deadline) throw new Error(`${workflowId} was not deleted`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }

    const h = await getReleaseHistory(env.client, env.taskQueue, deployable);
    expect(h?.releases.map((r) => [r.rolloutId, r.release, r.outcome, r.requestedBy, r.started, r.received])).toEqual([
      [ids[0], 'v1', 'succeeded', 'U_ALICE', 5, 5],
      [ids[1], 'v2', 'succeeded', 'U_BOB', 5, 5],
    ]);
    expect(Object.values(h?.targets ?? {}).map((v) => v.release)).toEqual(Array(5).fill('v2'));

    const rb = await prepareRollback(env.client, env.taskQueue, cfg, { deployable, requestedBy: 'U_CAROL' });
    if (!rb.ok) throw new Error(rb.reason);
    expect(rb.choice).toMatchObject({ partial: false, to: { release: 'v1' }, current: { rolloutId: ids[1] } });
    expect(rb.plan.targets.map((t) => t.name)).toEqual(targets.map((t) => t.name));
    const back = await rollOut(rb.plan);
    expect(back).toMatch(/ succeeded$/);
    for (const t of targets) expect(readTargetFile(t, 'version')).toBe('v1');
    const after = await historyUntil(deployable, (x) => x.releases.length === 3);
    expect(after.releases.at(-1)).toMatchObject({ release: 'v1', outcome: 'succeeded', rollbackOf: ids[1] });
    expect(Object.values(after.targets).map((v) => v.release)).toEqual(Array(5).fill('v1'));

    // The same rollback again is stale: the queue refuses it (typed), nothing runs.
    const stale = await refusalOfPromise(enqueueRollout(env.client, env.taskQueue, rb.plan));
    expect(stale?.type).toBe(REFUSAL.rollbackRefused);
    expect(stale?.reason).toMatch(/is no longer the latest release/);
  });

  it('a rollout that failed on its fourth target is rolled back on exactly those four, in reverse start order', async () => {
    const deployable = uniqueName('partial');
    const targets = sshd.targetsFor('partial');
    const names = targets.map((t) => t.name);
    const cfg = deployableConfig(targets, deployable, { target: names[3]!, release: 'v2' });

    expect(await rollOut(planFor(cfg, deployable, 'v1'))).toMatch(/ succeeded$/);
    expect(await rollOut(planFor(cfg, deployable, 'v2'))).toMatch(/ failed$/);
    const h = await historyUntil(deployable, (x) => x.releases.length === 2);
    expect(h.releases[1]).toMatchObject({ release: 'v2', outcome: 'failed', started: 4, received: 3 });
    expect(h.releases[1]?.targets).toEqual([
      { name: names[0], received: true },
      { name: names[1], received: true },
      { name: names[2], received: true },
      { name: names[3], received: false },
    ]);

    const rb = await prepareRollback(env.client, env.taskQueue, cfg, { deployable, requestedBy: 'U_ALICE' });
    if (!rb.ok) throw new Error(rb.reason);
    expect(rb.choice.partial).toBe(true);
    expect(rb.plan.targets.map((t) => t.name)).toEqual([names[3], names[2], names[1], names[0]]);
    expect(await rollOut(rb.plan)).toMatch(/ succeeded$/);

    // The fifth target never received v2 and is not touched; the four others got v1, v2 (the fourth half), v1.
    expect(marks(targets[4]!).map(([r]) => r)).toEqual(['v1']);
    for (const t of targets.slice(0, 4)) {
      expect(marks(t).map(([r]) => r)).toEqual(['v1', 'v2', 'v1']);
      expect(readTargetFile(t, 'version')).toBe('v1');
    }
    // The rollback's marks on the four, by time: the last to start v2 was the first to go back.
    const rollbackAt = targets.slice(0, 4).map((t) => marks(t)[2]![1]);
    const order = names
      .slice(0, 4)
      .map((n, i) => [n, rollbackAt[i]!] as const)
      .sort((a, b) => (a[1] < b[1] ? -1 : 1))
      .map(([n]) => n);
    expect(order).toEqual([names[3], names[2], names[1], names[0]]);
    // Control: the v2 marks on the same four are in forward order, so the comparison can tell the two apart.
    const v2At = targets.slice(0, 4).map((t) => marks(t)[1]![1]);
    expect([...v2At].sort((a, b) => (a < b ? -1 : 1))).toEqual(v2At);

    const after = await historyUntil(deployable, (x) => x.releases.length === 3);
    expect(after.releases[2]).toMatchObject({ release: 'v1', rollbackOf: h.releases[1]?.rolloutId, started: 4 });
    expect(Object.entries(after.targets).map(([n, v]) => [n, v.release])).toEqual(names.map((n) => [n, 'v1']));
    expect(readFileSync(path.join(targets[4]!.workdir, 'version'), 'utf8')).toBe('v1');
  });
});

describe('locks', () => {
  it('refuses everyone but the holder, names the holder and the reason; a take-over is explicit and recorded', async () => {
    const deployable = uniqueName('locked');
    const targets = sshd.targetsFor('lock');
    const cfg = deployableConfig(targets, deployable);

    const taken = await lockDeployable(env.client, env.taskQueue, deployable, {
      by: 'U_ALICE',
      reason: 'db migration',
    });
    expect(taken).toMatchObject({ outcome: 'accepted', result: { holder: 'U_ALICE', reason: 'db migration' } });

    const bob = await refusalOfPromise(
      enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v2', 'U_BOB')),
    );
    expect(bob?.type).toBe(REFUSAL.locked);
    expect(bob?.reason).toMatch(new RegExp(`^${deployable} is locked by U_ALICE since \\S+: db migration$`));
    // The holder may still roll out.
    expect(await rollOut(planFor(cfg, deployable, 'v1', 'U_ALICE'))).toMatch(/ succeeded$/);

    const lockAgain = await lockDeployable(env.client, env.taskQueue, deployable, { by: 'U_BOB', reason: 'mine now' });
    expect(lockAgain).toMatchObject({ outcome: 'rejected', type: REFUSAL.locked });
    expect(lockAgain.outcome === 'rejected' && lockAgain.reason).toMatch(/locked by U_ALICE .*: db migration/);
    const unlockOther = await unlockDeployable(env.client, env.taskQueue, deployable, 'U_BOB');
    expect(unlockOther).toMatchObject({ outcome: 'rejected', type: REFUSAL.locked });

    const takeOver = await lockDeployable(env.client, env.taskQueue, deployable, {
      by: 'U_BOB',
      reason: 'incident 42',
      takeOver: true,
    });
    expect(takeOver).toMatchObject({
      outcome: 'accepted',
      result: { holder: 'U_BOB', reason: 'incident 42', takenFrom: { holder: 'U_ALICE', reason: 'db migration' } },
    });
    const h = await getReleaseHistory(env.client, env.taskQueue, deployable);
    expect(h?.lockEvents.map((e) => [e.kind, e.by, e.from])).toEqual([
      ['locked', 'U_ALICE', undefined],
      ['taken-over', 'U_BOB', 'U_ALICE'],
    ]);
    expect(h?.lockEvents[1]?.at).toBe(h?.lock?.since);

    const alice = await refusalOfPromise(enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v3')));
    expect(alice?.reason).toMatch(/locked by U_BOB .*: incident 42/);

    expect(await unlockDeployable(env.client, env.taskQueue, deployable, 'U_BOB')).toMatchObject({
      outcome: 'accepted',
    });
    expect(await unlockDeployable(env.client, env.taskQueue, deployable, 'U_BOB')).toMatchObject({
      outcome: 'rejected',
      type: REFUSAL.notLocked,
    });
    // Control: unlocked, the request refused before goes through.
    expect(await rollOut(planFor(cfg, deployable, 'v3', 'U_BOB'))).toMatch(/ succeeded$/);
    const never = await unlockDeployable(env.client, env.taskQueue, uniqueName('never'), 'U_BOB');
    expect(never).toMatchObject({ outcome: 'rejected', type: REFUSAL.notLocked });
  });
});
