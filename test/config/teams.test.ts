// Config of issue 14's team features (branch teamsops): reminders, release checks and artifact child steps, and
// their errors naming the field path.
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';

const config = (deployable: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ssh: { user: 'deploy', privateKeyPath: '/keys/id', knownHostsPath: '/keys/known_hosts' },
  targets: { web1: { host: '10.0.0.1', tags: ['web'] } },
  deployables: {
    'web-farm': {
      targets: ['tag:web'],
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 1,
          childSteps: [
            { name: 'fetch', artifact: { source: '/srv/web-#{Release}.tgz' } },
            { name: 'install', script: 'tar -xzf #{Output.fetch.Path}' },
          ],
        },
      ],
      ...deployable,
    },
  },
  ...extra,
});

function problemsOf(input: unknown): string[] {
  try {
    validateConfig(input, 'test.yaml', '/tmp');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const plan = (input: unknown) =>
  buildPlan(validateConfig(input, 'test.yaml', '/tmp'), { deployable: 'web-farm', release: 'v2', requestedBy: 'U1' });

describe('teams config', () => {
  it('reminders, a release check and an artifact child step become the plan', () => {
    const p = plan(
      config(
        {
          reminders: { after: '15m', escalateAfter: '1h', escalateTo: '@oncall' },
          releaseCheck: { script: 'test -f /srv/web-#{Release}.tgz.sha256' },
        },
        { groups: { oncall: ['U9CAROL'] } },
      ),
    );
    expect(p.reminders).toEqual({ afterSec: 900, escalateAfterSec: 3600, escalateTo: { group: '@oncall' } });
    expect(p.releaseCheck).toEqual({
      script: 'test -f /srv/web-#{Release}.tgz.sha256',
      timeoutSec: 600,
      workdir: '.rollout',
    });
    const step = p.steps[0];
    expect(step?.type === 'rolling' && step.childSteps[0]?.artifact).toEqual({
      source: '/srv/web-#{Release}.tgz',
      dir: 'releases',
      keep: 3,
    });
  });

  it('a deployable without them has none in its plan', () => {
    const p = plan(config({}));
    expect(p).not.toHaveProperty('reminders');
    expect(p).not.toHaveProperty('releaseCheck');
  });

  it('bad values are refused naming the field', () => {
    const problems = problemsOf(
      config({
        reminders: { after: '15 minutes', escalateAfter: '1h' },
        releaseCheck: { script: '' },
      }),
    );
    expect(problems.some((p) => p.startsWith('deployables.web-farm.reminders.after:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('deployables.web-farm.releaseCheck.script:'))).toBe(true);
    expect(problemsOf(config({ reminders: { after: '1h', escalateAfter: '15m', escalateTo: '#ops' } }))).toEqual([
      'deployables.web-farm.reminders.escalateAfter: must be later than after',
    ]);
    expect(problemsOf(config({ reminders: { after: '1m', escalateAfter: '5m', escalateTo: '@nobody' } }))[0]).toMatch(
      /^deployables\.web-farm\.reminders\.escalateTo: undefined group "@nobody"/,
    );
  });

  it('a child step needs exactly one of script and artifact; an artifact names its bad field', () => {
    const both = config({});
    (both.deployables['web-farm'].process[0] as { childSteps: unknown[] }).childSteps = [
      { name: 'x', script: 'true', artifact: { source: '/a' } },
      { name: 'y' },
      { name: 'z', artifact: { source: '/a', keep: 0, dir: '../etc', sha256: 'a', sha256File: '/b' } },
    ];
    const problems = problemsOf(both);
    expect(problems).toContain(
      'deployables.web-farm.process[0].childSteps[0].script: a child step needs a script or an artifact (one of the two)',
    );
    expect(problems).toContain(
      'deployables.web-farm.process[0].childSteps[1].script: a child step needs a script or an artifact (one of the two)',
    );
    expect(problems.some((p) => p.startsWith('deployables.web-farm.process[0].childSteps[2].artifact.keep:'))).toBe(
      true,
    );
    expect(problems.some((p) => p.startsWith('deployables.web-farm.process[0].childSteps[2].artifact.dir:'))).toBe(
      true,
    );
  });

  it('a shared target gets its lock key: host:port for true, the name for a name', () => {
    const c = config({});
    (c.targets as Record<string, unknown>) = {
      web1: { host: '10.0.0.1', tags: ['web'], shared: true },
      web2: { host: '10.0.0.2', port: 2222, tags: ['web'], shared: 'db-box' },
      web3: { host: '10.0.0.3', tags: ['web'] },
    };
    const p = plan(c);
    expect(p.targets.map((t) => t.shared)).toEqual(['10.0.0.1:22', 'name:db-box', undefined]);
  });
});
