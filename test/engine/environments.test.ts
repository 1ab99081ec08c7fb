// Environments and promotion, four eyes: the deployable's queue workflow and the rollout workflow against a real
// Temporal dev server and real sshd targets (staging: web1, web2; production: web3, web4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choosePromotion } from '../../domain/environments';
import { REFUSAL } from '../../domain/failures';
import type { RolloutPlan, TargetPlan } from '../../domain/plan';
import { buildPlan } from '../../src/config/plan';
import type { Config } from '../../src/config/load';
import {
  decide,
  enqueueRollout,
  refusalOf,
  rolloutHandle,
  startRollout,
  waitUntilStarted,
} from '../../src/temporal/client';
import { getReleaseHistory } from '../../src/temporal/deployables';
import { prepareRollback } from '../../src/temporal/rollback';
import type { ReleaseHistory } from '../../workflows/releaseMessages';
import type { SshdFixture } from '../support/sshd';
import { uniqueName, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { configFor, readTargetFile, startEngineFixture, type EngineFixture } from '../support/rollouts';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 4, baseAddress: '127.0.25.1', queuePrefix: 'environments' });
  ({ sshd, env } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

/** web1, web2 tagged staging; web3, web4 production. */
function tagged(name: string): TargetPlan[] {
  return sshd.targetsFor(name).map((t, i) => ({ ...t, tags: [i < 2 ? 'staging' : 'production'] }));
}

/** Each run writes `<release> <environment>` to `version`; release v-bad fails. */
function envConfig(targets: TargetPlan[], deployable: string, extra: Record<string, unknown> = {}): Config {
  return configFor(targets, {
    [deployable]: {
      onFailure: 'fail',
      approvers: ['U_ALICE', 'U_BOB'],
      environments: {
        staging: { targets: ['tag:staging'], variables: { Greeting: 'hello-staging' } },
        production: { targets: ['tag:production'], variables: { Greeting: 'hello-production' }, ...extra },
      },
      lifecycle: ['staging', 'production'],
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 1,
          childSteps: [
            {
              name: 'install',
              script:
                'if [ #{Release} = v-bad ]; then echo broken >&2; exit 4; fi; printf "%s %s %s" #{Release} #{Environment} #{Greeting} > version',
            },
          ],
        },
      ],
    },
  });
}

const plan = (cfg: Config, deployable: string, release: string, environment: string, by = 'U_ALICE') =>
  buildPlan(cfg, { deployable, release, requestedBy: by, environment });

async function refused(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return refusalOf(e);
  }
  return undefined;
}

async function rollOut(p: RolloutPlan): Promise<string> {
  const { rolloutId } = await enqueueRollout(env.client, env.taskQueue, p);
  await waitUntilStarted(env.client, rolloutId, 100);
  return (await rolloutHandle(env.client, rolloutId).result()).status;
}

async function historyUntil(deployable: string, pred: (h: ReleaseHistory) => boolean): Promise<ReleaseHistory> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await getReleaseHistory(env.client, env.taskQueue, deployable);
    if (h && pred(h)) return h;
    if (Date.now() > deadline) throw new Error(`history never matched: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('environments and promotion', () => {
  it('production refuses v2 before it succeeded in staging, and takes it after; each environment its own targets and variables', async () => {
    const deployable = uniqueName('envs');
    const targets = tagged('promotion');
    const cfg = envConfig(targets, deployable);

    // Nothing in staging yet: the queue's validator refuses, typed, naming what is missing; nothing ran.
    const early = await refused(enqueueRollout(env.client, env.taskQueue, plan(cfg, deployable, 'v2', 'production')));
    expect(early).toEqual({
      type: REFUSAL.promotionRefused,
      reason: 'v2 has not succeeded in staging: it cannot go to production before it has',
    });
    for (const t of targets) expect(readTargetFile(t, 'version')).toBeUndefined();

    expect(await rollOut(plan(cfg, deployable, 'v2', 'staging'))).toBe('succeeded');
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual([
      'v2 staging hello-staging',
      'v2 staging hello-staging',
      undefined,
      undefined,
    ]);
    const h = await historyUntil(deployable, (x) => x.releases.length === 1);
    expect(h.releases[0]).toMatchObject({ release: 'v2', environment: 'staging', outcome: 'succeeded' });
    // What `promote` reads from that history: v2 goes on to production.
    expect(choosePromotion(deployable, ['staging', 'production'], h.releases, 'v2')).toEqual({
      ok: true,
      from: 'staging',
      to: 'production',
    });

    // A release that failed in staging does not count: production still refuses it.
    expect(await rollOut(plan(cfg, deployable, 'v-bad', 'staging'))).toBe('failed');
    await historyUntil(deployable, (x) => x.releases.length === 2);
    const bad = await refused(enqueueRollout(env.client, env.taskQueue, plan(cfg, deployable, 'v-bad', 'production')));
    expect(bad?.type).toBe(REFUSAL.promotionRefused);

    // v2 succeeded in staging: production takes it, on its own targets with its own variables.
    expect(await rollOut(plan(cfg, deployable, 'v2', 'production', 'U_BOB'))).toBe('succeeded');
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual([
      'v2 staging hello-staging',
      'v2 staging hello-staging',
      'v2 production hello-production',
      'v2 production hello-production',
    ]);
    const after = await historyUntil(deployable, (x) => x.releases.length === 3);
    expect(choosePromotion(deployable, ['staging', 'production'], after.releases, 'v2')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already succeeded in production, the last environment/),
    });
  });

  it('a rollback stays in the environment of the latest release, judged on its releases only', async () => {
    const deployable = uniqueName('envs-undo');
    const targets = tagged('env-rollback');
    const cfg = envConfig(targets, deployable);
    expect(await rollOut(plan(cfg, deployable, 'v1', 'staging'))).toBe('succeeded');
    // The queue records a release a moment after its rollout ends; production needs the record.
    await historyUntil(deployable, (x) => x.releases.length === 1);
    expect(await rollOut(plan(cfg, deployable, 'v1', 'production'))).toBe('succeeded');
    expect(await rollOut(plan(cfg, deployable, 'v2', 'staging'))).toBe('succeeded');
    await historyUntil(deployable, (x) => x.releases.length === 3);

    const undo = await prepareRollback(env.client, env.taskQueue, cfg, { deployable, requestedBy: 'U_BOB' });
    expect(undo.ok).toBe(true);
    if (!undo.ok) return;
    expect(undo.plan).toMatchObject({ environment: 'staging', release: 'v1', rollback: { fromRelease: 'v2' } });
    expect(await rollOut(undo.plan)).toBe('succeeded');
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual([
      'v1 staging hello-staging',
      'v1 staging hello-staging',
      'v1 production hello-production',
      'v1 production hello-production',
    ]);
    await historyUntil(deployable, (x) => x.releases.length === 4);
    // Production's latest is its only release: nothing succeeded before it there (staging's v2 does not count).
    const prod = await prepareRollback(env.client, env.taskQueue, cfg, {
      deployable,
      requestedBy: 'U_BOB',
      of: (await getReleaseHistory(env.client, env.taskQueue, deployable))!.releases[1]!.rolloutId,
    });
    expect(prod).toMatchObject({ ok: false, reason: expect.stringMatching(/no release of .* succeeded before v1/) });
  });

  it('a deployable without environments works as before: no environment in its plan, nothing to refuse', async () => {
    const deployable = uniqueName('plain');
    const targets = tagged('plain');
    const cfg = configFor(targets, {
      [deployable]: {
        targets: ['tag:production'],
        process: [{ name: 'install', script: 'printf %s #{Release} > version' }],
      },
    });
    const p = buildPlan(cfg, { deployable, release: 'v1', requestedBy: 'U_ALICE' });
    expect(p.environment).toBeUndefined();
    expect(p.requiresSuccessIn).toBeUndefined();
    expect(await rollOut(p)).toBe('succeeded');
    expect(readTargetFile(targets[2]!, 'version')).toBe('v1');
  });
});

describe('four eyes', () => {
  const manualConfig = (targets: TargetPlan[], deployable: string, fourEyes: boolean) =>
    configFor(targets, {
      [deployable]: {
        targets: ['tag:production'],
        approvers: ['U_ALICE', 'U_BOB'],
        process: [
          { type: 'manual', name: 'check-dashboards', instructions: 'Look at the dashboards', fourEyes },
          { name: 'install', script: 'printf %s #{Release} > version' },
        ],
      },
    });

  it('a fourEyes manual step refuses the starter’s own Proceed (typed, saying why) and takes another approver’s', async () => {
    const deployable = uniqueName('eyes');
    const targets = tagged('four-eyes');
    const cfg = manualConfig(targets, deployable, true);
    const handle = await startRollout(
      env.client,
      env.taskQueue,
      buildPlan(cfg, { deployable, release: 'v3', requestedBy: 'U_ALICE' }),
    );
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({ kind: 'manual', step: 'check-dashboards', notBy: 'U_ALICE' });

    const own = await decide(env.client, handle.workflowId, d.id, 'proceed', 'U_ALICE');
    expect(own).toMatchObject({
      outcome: 'rejected',
      type: REFUSAL.fourEyes,
      reason: expect.stringMatching(/four eyes: U_ALICE started rollout .* may not approve check-dashboards/),
    });
    const still = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    expect(still.pendingDecisions[0]?.answer).toBeUndefined();
    expect(readTargetFile(targets[2]!, 'version')).toBeUndefined();

    expect((await decide(env.client, handle.workflowId, d.id, 'proceed', 'U_BOB')).outcome).toBe('accepted');
    expect((await handle.result()).status).toBe('succeeded');
    expect(readTargetFile(targets[2]!, 'version')).toBe('v3');
  });

  it('control: without fourEyes the starter’s own Proceed is taken', async () => {
    const deployable = uniqueName('eyes-off');
    const targets = tagged('four-eyes-off');
    const cfg = manualConfig(targets, deployable, false);
    const handle = await startRollout(
      env.client,
      env.taskQueue,
      buildPlan(cfg, { deployable, release: 'v3', requestedBy: 'U_ALICE' }),
    );
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    expect(s.pendingDecisions[0]?.notBy).toBeUndefined();
    expect((await decide(env.client, handle.workflowId, s.pendingDecisions[0]!.id, 'proceed', 'U_ALICE')).outcome).toBe(
      'accepted',
    );
    expect((await handle.result()).status).toBe('succeeded');
  });

  it('an environment with fourEyes starts with an approval its starter may not give; nothing runs before', async () => {
    const deployable = uniqueName('eyes-env');
    const targets = tagged('four-eyes-env');
    const cfg = envConfig(targets, deployable, { fourEyes: true });
    expect(await rollOut(plan(cfg, deployable, 'v4', 'staging'))).toBe('succeeded');
    await historyUntil(deployable, (x) => x.releases.length === 1);

    const p = plan(cfg, deployable, 'v4', 'production', 'U_BOB');
    expect(p.steps[0]).toMatchObject({ type: 'manual', name: 'start-approval', fourEyes: true });
    const { rolloutId } = await enqueueRollout(env.client, env.taskQueue, p);
    await waitUntilStarted(env.client, rolloutId, 100);
    const s = await waitForSummary(env.client, rolloutId, (x) => x.pendingDecisions.length === 1);
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({ step: 'start-approval', notBy: 'U_BOB' });
    const own = await decide(env.client, rolloutId, d.id, 'proceed', 'U_BOB');
    expect(own).toMatchObject({ outcome: 'rejected', type: REFUSAL.fourEyes });
    expect(readTargetFile(targets[2]!, 'version')).toBeUndefined();

    expect((await decide(env.client, rolloutId, d.id, 'proceed', 'U_ALICE')).outcome).toBe('accepted');
    expect((await rolloutHandle(env.client, rolloutId).result()).status).toBe('succeeded');
    expect(readTargetFile(targets[2]!, 'version')).toBe('v4 production hello-production');
  });
});
