// The plan preview (domain/preview.ts, src/config/preview.ts): target order and ramp stages as the workflow's
// Pacer runs them, the MaxParallelism override, conditions judged at plan time or left to run time, approvers
// expanded under the one rule, freezes and the lock; and the hash that a later Start compares.
import { describe, expect, it } from 'vitest';
import type { PreviewExecStep, PreviewManualStep } from '../../domain/preview';
import { rampStages } from '../../domain/ramp';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { planHash, planPreview, previewText } from '../../src/config/preview';

const NOW = new Date('2026-03-02T10:00:00Z');

function input(over: { window?: unknown; variables?: Record<string, string>; freezes?: unknown[] } = {}) {
  const targets = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [
      `web${i + 1}`,
      { transport: 'local', tags: i % 2 === 0 ? ['web', 'eu'] : ['web'], variables: { Zone: i < 4 ? 'a' : 'b' } },
    ]),
  );
  return {
    targets,
    groups: { ops: ['UALICE', 'UBOB'], leads: { slack: 'leads' } },
    deployables: {
      web: {
        targets: ['tag:web'],
        starters: ['UALICE'],
        approvers: ['@ops'],
        variables: { Env: 'prod', ...over.variables },
        freezes: over.freezes ?? [],
        process: [
          { type: 'manual', name: 'go-ahead', instructions: 'check the dashboard' },
          { type: 'manual', name: 'sign-off', instructions: 'sign', approvers: ['@leads', 'UCAROL'] },
          {
            type: 'rolling',
            name: 'deploy',
            window: over.window ?? [1, 2, '50%'],
            childSteps: [
              { name: 'install', script: 'echo #{Release}' },
              { name: 'zone-a', script: 'echo a', if: 'Var.Zone == "a"' },
              { name: 'after', script: 'echo x', if: 'Output.install.Ok == "1"' },
              { name: 'undo', script: 'echo undo', runCondition: 'failure' },
            ],
          },
          { name: 'eu-note', script: 'echo eu', tags: ['eu'] },
          { name: 'staging-only', script: 'echo s', if: 'Var.Env == "staging"' },
          { name: 'on-status', script: 'echo s', if: 'Status == "success"' },
        ],
      },
    },
  };
}

const planOf = (i = input(), variables: Record<string, string> = {}, by = 'UALICE') =>
  buildPlan(validateConfig(i, 'rollout.yaml', '/tmp'), {
    deployable: 'web',
    release: 'v2',
    requestedBy: by,
    variables,
  });

const exec = (p: Awaited<ReturnType<typeof planPreview>>, name: string) =>
  p.steps.find((s) => s.name === name) as PreviewExecStep;

describe('plan preview', () => {
  it('a ramped rolling step lists the target order and window stages (1, 2, 50% over 8: 1, 2, 4, 1)', async () => {
    const p = await planPreview(planOf(), { now: NOW });
    const deploy = exec(p, 'deploy');
    expect(deploy.targets).toEqual(['web1', 'web2', 'web3', 'web4', 'web5', 'web6', 'web7', 'web8']);
    expect(deploy.configuredWindow).toBe('ramp 1, 2, 50%');
    expect(deploy.stages).toEqual([
      { stage: 1, targets: ['web1'] },
      { stage: 2, targets: ['web2', 'web3'] },
      { stage: 3, targets: ['web4', 'web5', 'web6', 'web7'] },
      { stage: 4, targets: ['web8'] },
    ]);
    // The same sizes as the workflow's own stage function.
    expect(deploy.stages?.map((s) => s.targets.length)).toEqual(
      rampStages({ windows: [{ count: 1 }, { count: 2 }, { percent: 50 }] }, 8),
    );
    expect(previewText(p)).toContain('stage 3: web4, web5, web6, web7');
  });

  it('MaxParallelism replaces the ramp and says so', async () => {
    const p = await planPreview(planOf(input(), { MaxParallelism: '3' }), { now: NOW });
    expect(p.maxParallelism).toBe(3);
    const deploy = exec(p, 'deploy');
    expect(deploy).toMatchObject({ window: 3, maxParallelism: 3, configuredWindow: 'ramp 1, 2, 50%' });
    expect(deploy.stages).toBeUndefined();
    expect(previewText(p)).toContain('window: 3 (MaxParallelism=3 overrides ramp 1, 2, 50%)');
  });

  it('judges conditions known at plan time and leaves the rest to run time', async () => {
    const p = await planPreview(planOf(), { now: NOW });
    const deploy = exec(p, 'deploy');
    const child = (n: string) => deploy.childSteps.find((c) => c.name === n);
    expect(child('install')).toEqual({ name: 'install', runs: 'runs', skippedOn: [] });
    expect(child('zone-a')).toMatchObject({
      condition: { verdict: 'true' },
      skippedOn: ['web5', 'web6', 'web7', 'web8'],
    });
    expect(child('after')).toMatchObject({ condition: { verdict: 'run time' }, skippedOn: [] });
    expect(child('undo')?.runs).toBe('on failure only');
    expect(exec(p, 'staging-only')).toMatchObject({ runs: 'skipped', condition: { verdict: 'false' } });
    expect(exec(p, 'on-status').condition?.verdict).toBe('run time');
    // Control: the same condition is true when the variable says so.
    const staging = await planPreview(planOf(input({ variables: { Env: 'staging' } })), { now: NOW });
    expect(exec(staging, 'staging-only')).toMatchObject({ runs: 'runs', condition: { verdict: 'true' } });
    // Tags decide which targets a step reaches.
    expect(exec(p, 'eu-note').targets).toEqual(['web1', 'web3', 'web5', 'web7']);
    expect(previewText(p)).toContain('if Output.install.Ok == "1" [decided at run time]');
  });

  it('expands who may approve each manual step under the one rule', async () => {
    const p = await planPreview(planOf(), { now: NOW });
    const [goAhead, signOff] = p.steps as PreviewManualStep[];
    expect(goAhead?.approvers).toEqual({ list: ['@ops'], anyone: false, members: ['UALICE', 'UBOB'], unresolved: [] });
    // A Slack group cannot be expanded without the bot's directory: it grants nothing, and the preview says so.
    expect(signOff?.approvers).toEqual({
      list: ['@leads', 'UCAROL'],
      anyone: false,
      members: ['UCAROL'],
      unresolved: ['leads'],
    });
    const withDirectory = await planPreview(planOf(), {
      now: NOW,
      directory: { groupMembers: (h) => Promise.resolve(h === 'leads' ? ['UDAVE'] : undefined) },
    });
    expect((withDirectory.steps[1] as PreviewManualStep).approvers.members).toEqual(['UCAROL', 'UDAVE']);
  });

  it('names freezes in force and ahead, and the lock (refusing someone else)', async () => {
    const freezes = [
      { name: 'now', from: '2026-03-02T09:00:00Z', until: '2026-03-02T12:00:00Z', reason: 'launch' },
      { name: 'later', from: '2026-03-05T00:00:00Z', until: '2026-03-06T00:00:00Z', reason: 'audit' },
      { name: 'past', from: '2026-03-01T00:00:00Z', until: '2026-03-01T01:00:00Z', reason: 'old' },
    ];
    const lock = { holder: 'UBOB', reason: 'db migration', since: '2026-03-02T09:30:00Z' };
    const p = await planPreview(planOf(input({ freezes })), { now: NOW, lock });
    expect(p.freezes.map((f) => [f.name, f.inForce])).toEqual([
      ['now', true],
      ['later', false],
    ]);
    expect(p.lockedOut).toBe('locked by UBOB since 2026-03-02T09:30:00Z: db migration');
    const own = await planPreview(planOf(input(), {}, 'UBOB'), { now: NOW, lock });
    expect(own.lock).toEqual(lock);
    expect(own.lockedOut).toBeUndefined();
  });

  it('the hash follows the config, not who asks', () => {
    const h = planHash(planOf());
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(planHash(planOf(input(), {}, 'UBOB'))).toBe(h);
    expect(planHash(planOf(input({ window: [1, 3] })))).not.toBe(h);
    const moreTargets = input();
    (moreTargets.targets as Record<string, unknown>).web9 = { transport: 'local', tags: ['web'] };
    expect(planHash(planOf(moreTargets))).not.toBe(h);
  });

  it('a plain rolling window and a script step run all at once', async () => {
    const p = await planPreview(planOf(input({ window: '25%' })), { now: NOW });
    expect(exec(p, 'deploy')).toMatchObject({ window: 2, configuredWindow: '25%' });
    expect(exec(p, 'deploy').stages).toBeUndefined();
    expect(exec(p, 'eu-note')).toMatchObject({ type: 'script', window: 4 });
  });
});
