// Config for environments, lifecycles and four eyes: the shapes accepted, every bad field named by its path, what
// the plan captures; the `/rollout` words for them; the four-eyes card; the promotion rules (domain/environments).
import { describe, expect, it } from 'vitest';
import { manualCard } from '../../activities/slack/blocks';
import { choosePromotion, promotionProblem } from '../../domain/environments';
import type { ReleaseRecord } from '../../domain/releases';
import { parseCommand } from '../../src/bot/commandParser';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile, validateConfig } from '../../src/config/load';
import { buildPlan, RequestError } from '../../src/config/plan';
import type { Decision } from '../../workflows/messages';

function config(deploy: Record<string, unknown> = {}) {
  return {
    targets: Object.fromEntries(
      ['s1', 'p1', 'p2'].map((n) => [
        n,
        { transport: 'local', workdir: `/tmp/${n}`, tags: [n.startsWith('s') ? 'staging' : 'production'] },
      ]),
    ),
    deployables: {
      app: {
        approvers: ['UALICE', 'UBOB'],
        environments: {
          staging: { targets: ['tag:staging'], variables: { Url: 'https://staging' } },
          production: { targets: ['tag:production'], variables: { Url: 'https://prod' }, fourEyes: true },
        },
        lifecycle: ['staging', 'production'],
        process: [{ name: 'go', script: 'curl #{Url} #{Environment}' }],
        ...deploy,
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

const planFor = (input: unknown, environment?: string, requestedBy = 'UALICE') =>
  buildPlan(validateConfig(input, 'rollout.yaml', '/tmp'), {
    deployable: 'app',
    release: 'v2',
    requestedBy,
    ...(environment !== undefined ? { environment } : {}),
  });

const problemsOfRequest = (input: unknown, environment?: string) => {
  try {
    planFor(input, environment);
  } catch (e) {
    if (e instanceof RequestError) return e.problems;
    throw e;
  }
  return [];
};

describe('environments in the config', () => {
  it('accepts environments with their own targets and variables (an env-only variable every one declares)', () => {
    expect(problemsOf(config())).toEqual([]);
  });

  it('names every bad field by its path', () => {
    expect(problemsOf(config({ lifecycle: ['staging', 'prod', 'staging'] }))).toEqual([
      'deployables.app.lifecycle[1]: "prod" is not one of its environments (staging, production)',
      'deployables.app.lifecycle[2]: "staging" is listed twice',
    ]);
    expect(
      problemsOf(
        config({
          environments: { staging: { targets: ['tag:nope'], approvers: ['@ops'], channel: '#deploys' } },
          lifecycle: undefined,
        }),
      ),
    ).toEqual(['deployables.app.environments.staging.channel: must be a Slack channel id like C0123ABCD']);
    expect(
      problemsOf(
        config({ environments: { staging: { targets: ['tag:nope'], approvers: ['@ops'] } }, lifecycle: undefined }),
      ),
    ).toEqual([
      'deployables.app.environments.staging.targets[0]: no target carries tag "nope"',
      'deployables.app.environments.staging.approvers[0]: undefined group "@ops": declare it under groups (members, or { slack: <handle> }); known: none',
      'deployables.app.process[0].script: unknown variable #{Url} (declare it under deployables.app.variables, in every environment or on every target)',
    ]);
    expect(problemsOf(config({ environments: { staging: {} }, lifecycle: undefined }))).toEqual([
      'deployables.app.environments.staging.targets: is required when the deployable lists no targets of its own',
    ]);
    expect(problemsOf(config({ environments: undefined }))).toEqual([
      'deployables.app.targets: a deployable needs at least one target',
      'deployables.app.lifecycle: a lifecycle needs environments: declare them',
    ]);
    // A variable only one environment declares is unknown to the other's rollouts.
    expect(
      problemsOf(
        config({
          environments: {
            staging: { targets: ['tag:staging'], variables: { Url: 'x' } },
            production: { targets: ['tag:production'] },
          },
        }),
      ),
    ).toEqual([
      'deployables.app.process[0].script: unknown variable #{Url} (declare it under deployables.app.variables, in every environment or on every target)',
    ]);
    expect(
      problemsOf(
        config({
          process: [
            { type: 'manual', name: 'start-approval', instructions: 'x' },
            { name: 'go', script: 'true' },
          ],
        }),
      ),
    ).toEqual([
      'deployables.app.process[0].name: "start-approval" is the step a four-eyes environment adds: name this step otherwise',
    ]);
  });

  it('a deployable without environments is unchanged; #{Environment} is unknown to it', () => {
    const plain = {
      targets: { t1: { transport: 'local', workdir: '/tmp/t1' } },
      deployables: { app: { targets: ['t1'], process: [{ name: 'go', script: 'echo #{Environment}' }] } },
    };
    expect(problemsOf(plain)).toEqual([
      'deployables.app.process[0].script: unknown variable #{Environment} (declare it under deployables.app.variables or on every target)',
    ]);
  });
});

describe('the plan of a rollout in an environment', () => {
  it("captures the environment's targets, variables, the lifecycle prerequisite and the four-eyes start", () => {
    const staging = planFor(config(), 'staging');
    expect(staging).toMatchObject({
      environment: 'staging',
      variables: { Url: 'https://staging', Environment: 'staging' },
    });
    expect(staging.requiresSuccessIn).toBeUndefined();
    expect(staging.targets.map((t) => t.name)).toEqual(['s1']);
    expect(staging.steps.map((s) => s.name)).toEqual(['go']);

    const prod = planFor(config(), 'production');
    expect(prod).toMatchObject({
      environment: 'production',
      requiresSuccessIn: 'staging',
      approvers: ['UALICE', 'UBOB'],
    });
    expect(prod.targets.map((t) => t.name)).toEqual(['p1', 'p2']);
    expect(prod.steps[0]).toMatchObject({ type: 'manual', name: 'start-approval', fourEyes: true, approvers: [] });
  });

  it('refuses a request without an environment, with an unknown one, or with one for a plain deployable', () => {
    expect(problemsOfRequest(config())).toEqual([
      'app has environments (staging, production): say which one, e.g. `app <release> staging`',
    ]);
    expect(problemsOfRequest(config(), 'qa')).toEqual(['app has no environment "qa" (known: staging, production)']);
    expect(problemsOfRequest(config(), '__proto__')).toEqual([
      'app has no environment "__proto__" (known: staging, production)',
    ]);
    const plain = {
      targets: { t1: { transport: 'local', workdir: '/tmp/t1' } },
      deployables: { app: { targets: ['t1'], process: [{ name: 'go', script: 'true' }] } },
    };
    expect(problemsOfRequest(plain, 'production')).toEqual(['app has no environments (asked for "production")']);
    expect(planFor(plain).environment).toBeUndefined();
  });
});

describe('promotion rules', () => {
  const rec = (release: string, environment: string, outcome: ReleaseRecord['outcome']): ReleaseRecord => ({
    rolloutId: `r-${release}-${environment}`,
    release,
    environment,
    outcome,
    requestedBy: 'U',
    requestedAt: '',
    startedAt: '',
    endedAt: '',
  });
  const life = ['dev', 'staging', 'production'];

  it('a release enters an environment only after it succeeded in the one before', () => {
    const h = [rec('v2', 'dev', 'succeeded'), rec('v2', 'staging', 'failed')];
    expect(promotionProblem(h, 'v2', 'staging', 'dev')).toBeUndefined();
    expect(promotionProblem(h, 'v2', 'production', 'staging')).toBe(
      'v2 has not succeeded in staging: it cannot go to production before it has',
    );
    expect(promotionProblem(h, 'v3', 'staging', 'dev')).toMatch(/v3 has not succeeded in dev/);
    expect(promotionProblem([], 'v3', 'dev', undefined)).toBeUndefined();
  });

  it('promote picks the environment after the last one it succeeded in', () => {
    expect(choosePromotion('app', life, [rec('v2', 'dev', 'succeeded')], 'v2')).toEqual({
      ok: true,
      from: 'dev',
      to: 'staging',
    });
    expect(choosePromotion('app', life, [rec('v2', 'dev', 'failed')], 'v2')).toMatchObject({
      ok: false,
      reason: 'v2 has not succeeded in any environment of app yet: roll it out to dev first',
    });
    expect(choosePromotion('app', undefined, [], 'v2')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no lifecycle/),
    });
  });
});

describe('the /rollout words', () => {
  it('parses an environment after the release, and promote', () => {
    expect(parseCommand('web v2 production')).toEqual({
      ok: true,
      command: { kind: 'start', deployable: 'web', release: 'v2', environment: 'production' },
    });
    expect(parseCommand('web v2')).toEqual({ ok: true, command: { kind: 'start', deployable: 'web', release: 'v2' } });
    expect(parseCommand('web v2 production extra')).toMatchObject({ ok: false });
    expect(parseCommand('web v2\nproduction')).toMatchObject({ ok: false, error: expect.stringMatching(/release/) });
    expect(parseCommand('web v2 production --override-freeze hotfix\nCVE-1')).toMatchObject({
      ok: true,
      command: { environment: 'production', overrideFreeze: 'hotfix CVE-1' },
    });
    expect(parseCommand('promote web v2')).toEqual({
      ok: true,
      command: { kind: 'promote', deployable: 'web', release: 'v2' },
    });
    expect(parseCommand('promote web')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/missing deployable or release/),
    });
    expect(parseCommand('promote web v2 now')).toMatchObject({ ok: false });
  });
});

describe('the four-eyes card', () => {
  const d: Decision = {
    id: 'd1',
    kind: 'manual',
    step: 'start-approval',
    instructions: 'Someone else approves the start.',
    createdAt: '2026-12-01T10:00:00.000Z',
    choices: ['proceed', 'abort'],
    notBy: 'UALICE',
  };
  it('names who may answer and that the starter may not approve', () => {
    const card = JSON.stringify(manualCard('r1', d, ['UBOB']));
    expect(card).toContain('Waiting for <@UBOB> (four eyes: <@UALICE> started this rollout and may not approve it)');
    const anyone = JSON.stringify(manualCard('r1', d, []));
    expect(anyone).toContain('Waiting for anyone but <@UALICE>');
    // Control: without four eyes the card says nothing of it.
    const { notBy: _, ...plain } = d;
    expect(JSON.stringify(manualCard('r1', plain, ['UBOB']))).not.toContain('four eyes');
  });
});

describe('examples/environments/rollout.yaml', () => {
  it('is a valid config whose production needs staging first and four eyes to start', () => {
    const cfg = loadConfigFile(fileURLToPath(new URL('../../examples/environments/rollout.yaml', import.meta.url)));
    const p = buildPlan(cfg, {
      deployable: 'shop',
      release: 'v2',
      requestedBy: 'cli:alice',
      environment: 'production',
    });
    expect(p).toMatchObject({ environment: 'production', requiresSuccessIn: 'staging' });
    expect(p.steps.map((s) => s.name)).toEqual(['start-approval', 'deploy', 'verify']);
    expect(p.targets.map((t) => t.name)).toEqual(['app-prod-1', 'app-prod-2']);
  });
});
