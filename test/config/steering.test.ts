// Config for ramped windows, deploy freezes and MaxParallelism: the shapes accepted, every bad field named by its
// path, and what the plan captures. The request-time freeze rule (judgeFreeze) on a fixed clock.
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/load';
import { judgeFreeze } from '../../src/config/freezes';
import { buildPlan, RequestError } from '../../src/config/plan';

function config(deploy: Record<string, unknown> = {}, rolling: Record<string, unknown> = { window: 2 }) {
  return {
    targets: Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [
        `t${i + 1}`,
        { transport: 'local', workdir: `/tmp/t${i + 1}`, tags: ['web'] },
      ]),
    ),
    deployables: {
      app: {
        targets: ['tag:web'],
        variables: { Port: '80' },
        ...deploy,
        process: [{ type: 'rolling', name: 'deploy', ...rolling, childSteps: [{ name: 'go', script: 'true' }] }],
      },
    },
  };
}

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input, 'rollout.yaml', '/tmp');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const plan = (input: unknown, variables?: Record<string, string>, requestedBy = 'U_ALICE') =>
  buildPlan(validateConfig(input, 'rollout.yaml', '/tmp'), {
    deployable: 'app',
    release: 'v2',
    requestedBy,
    ...(variables ? { variables } : {}),
  });

describe('ramped windows in config', () => {
  it('a window list is a ramp with nothing between stages; the ramp form adds bake and manual', () => {
    const short = plan(config({}, { window: [1, 2, '50%'] })).steps[0];
    expect(short).toMatchObject({
      window: { count: 1 },
      ramp: { windows: [{ count: 1 }, { count: 2 }, { percent: 50 }] },
    });
    expect(short).not.toHaveProperty('ramp.between');
    const long = plan(config({}, { ramp: { window: [1, '25%'], between: { bakeSec: 300, manual: true } } })).steps[0];
    expect(long).toMatchObject({
      ramp: { windows: [{ count: 1 }, { percent: 25 }], between: { bakeSec: 300, manual: true } },
    });
    expect(plan(config({}, { ramp: { window: [1, 2], between: 'manual' } })).steps[0]).toMatchObject({
      ramp: { between: { manual: true } },
    });
    // A plain window stays a sliding window.
    expect(plan(config()).steps[0]).not.toHaveProperty('ramp');
  });

  it('names the path of every bad ramp field', () => {
    expect(problemsOf(config({}, { window: [1, 0] }))).toEqual(['deployables.app.process[0].window[1]: must be ≥ 1']);
    expect(problemsOf(config({}, { ramp: { window: [] } }))).toEqual([
      'deployables.app.process[0].ramp.window: a ramp needs at least one window',
    ]);
    expect(problemsOf(config({}, { ramp: { window: [1, '150%'], between: { bakeSec: 0, extra: 1 } } }))).toEqual(
      expect.arrayContaining([
        'deployables.app.process[0].ramp.window[1]: percentage must be > 0% and ≤ 100%',
        expect.stringMatching(/^deployables\.app\.process\[0\]\.ramp\.between/),
      ]),
    );
    expect(problemsOf(config({}, { window: 2, ramp: { window: [1] } }))).toEqual([
      'deployables.app.process[0].ramp: give either window or ramp, not both',
    ]);
    expect(problemsOf(config({}, {}))).toEqual([
      'deployables.app.process[0].window: is required for a rolling step (a count, a percentage, a list, or give a ramp)',
    ]);
  });
});

describe('deploy freezes in config', () => {
  const freeze = {
    name: 'year-end',
    from: '2025-12-20T00:00:00+01:00',
    until: '2026-01-05T00:00:00Z',
    reason: 'year end',
  };

  it('the plan captures the freezes in UTC, every one named', () => {
    const p = plan(
      config({ freezes: [freeze, { from: '2026-02-01T00:00:00Z', until: '2026-02-02T00:00:00Z', reason: 'x' }] }),
    );
    expect(p.freezes).toEqual([
      { name: 'year-end', from: '2025-12-19T23:00:00.000Z', until: '2026-01-05T00:00:00.000Z', reason: 'year end' },
      { name: 'freezes[1]', from: '2026-02-01T00:00:00.000Z', until: '2026-02-02T00:00:00.000Z', reason: 'x' },
    ]);
    expect(plan(config()).freezes).toBeUndefined();
  });

  it('names the path of every bad freeze field', () => {
    expect(
      problemsOf(
        config({
          freezes: [
            { ...freeze, from: '2025-12-20T00:00:00' },
            { ...freeze, until: '2025-12-01T00:00:00Z', from: '2025-12-02T00:00:00Z' },
            { ...freeze, reason: '' },
          ],
        }),
      ),
    ).toEqual([
      'deployables.app.freezes[0].from: must be an ISO 8601 time with a zone, like 2025-12-20T00:00:00Z',
      'deployables.app.freezes[2].reason: must not be empty',
    ]);
    expect(problemsOf(config({ freezes: [freeze, { ...freeze, until: '2026-01-05T00:00:00.000Z' }] }))).toEqual([
      'deployables.app.freezes[1].name: duplicate freeze name "year-end"',
    ]);
    expect(problemsOf(config({ freezes: [{ ...freeze, until: '2025-12-19T00:00:00Z' }] }))).toEqual([
      'deployables.app.freezes[0].until: must be later than from',
    ]);
  });

  it('judgeFreeze: refused saying until when; an override by an overrider passes and is recorded', async () => {
    const p = plan(config({ freezes: [freeze], freezeOverriders: ['U_CTO'] }));
    const during = new Date('2025-12-24T12:00:00Z');
    const refused = await judgeFreeze(p, during, undefined, () => true, ['U_CTO']);
    expect(refused).toEqual({
      ok: false,
      reason: 'app is frozen until 2026-01-05 00:00 UTC (year-end: year end); U_CTO may override it with a reason',
    });
    const stranger = await judgeFreeze(p, during, { by: 'U_EVE', reason: 'please' }, () => false, ['U_CTO']);
    expect(stranger).toMatchObject({ ok: false, reason: expect.stringMatching(/U_EVE may not override it/) });
    const nobody = await judgeFreeze(p, during, { by: 'U_CTO', reason: 'hotfix' }, () => true, []);
    expect(nobody).toMatchObject({ ok: false });
    const ok = await judgeFreeze(p, during, { by: 'U_CTO', reason: ' hotfix CVE-1 ' }, () => true, ['U_CTO']);
    expect(ok).toEqual({
      ok: true,
      override: { by: 'U_CTO', reason: 'hotfix CVE-1', at: during.toISOString(), freezes: ['year-end'] },
    });
    // Outside the freeze nothing is asked and nothing recorded.
    expect(await judgeFreeze(p, new Date('2026-01-05T00:00:00Z'), undefined, () => false, [])).toEqual({ ok: true });
  });
});

describe('MaxParallelism', () => {
  it('may be given for a rollout without being declared; must be a whole number', () => {
    expect(plan(config(), { MaxParallelism: '3' }).variables.MaxParallelism).toBe('3');
    expect(() => plan(config(), { MaxParallelism: 'lots' })).toThrow(RequestError);
    expect(() => plan(config(), { MaxParallelism: '0' })).toThrow(/MaxParallelism must be a whole number ≥ 1/);
  });

  it('a deployable variable MaxParallelism is checked where it is declared', () => {
    expect(problemsOf(config({ variables: { MaxParallelism: 'x' } }))).toEqual([
      'deployables.app.variables.MaxParallelism: MaxParallelism must be a whole number ≥ 1 (got "x")',
    ]);
    expect(problemsOf(config({ variables: { MaxParallelism: '4' } }))).toEqual([]);
  });
});
