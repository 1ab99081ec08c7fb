import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, validateConfig } from '../../src/config/load';
import { buildPlan, RequestError } from '../../src/config/plan';

const base = () => ({
  ssh: { user: 'deploy', privateKeyPath: '/keys/id', knownHostsPath: '/keys/known_hosts' },
  targets: {
    web1: { host: '10.0.0.1', tags: ['web'], variables: { Color: 'blue' } },
    web2: { host: '10.0.0.2', tags: ['web'], variables: { Color: 'green' } },
    db1: { host: '10.0.0.3', tags: ['db'] },
  },
  deployables: {
    'web-farm': {
      targets: ['tag:web'],
      variables: { Port: '8080' },
      process: [
        { name: 'prepare', script: 'echo #{Release} #{Port}' },
        {
          type: 'rolling',
          name: 'deploy',
          window: '50%',
          childSteps: [
            { name: 'take-out', script: 'echo out #{Machine.Name}' },
            { name: 'sanity', script: 'set_output Ok True' },
            { name: 'add-back', script: 'echo back', if: 'Output.sanity.Ok == "True"' },
            { name: 'cleanup', script: 'echo #{Color}', runCondition: 'always' },
          ],
        },
      ],
    },
  },
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

describe('config', () => {
  it('accepts a good config and resolves targets in file order', () => {
    const cfg = validateConfig(base(), 'test.yaml', '/tmp');
    expect(cfg.targets.map((t) => t.name)).toEqual(['web1', 'web2', 'db1']);
    expect(cfg.targets[0]).toMatchObject({
      user: 'deploy',
      port: 22,
      strictHostKeyChecking: true,
      privateKeyPath: '/keys/id',
    });
  });

  it('names the path of every bad field', () => {
    const c = base() as any;
    c.deployables['web-farm'].process[1].window = 0;
    c.targets.web2.port = 'x';
    c.deployables['web-farm'].process.push({ type: 'rolling', name: 'x', window: 2, childSteps: [] });
    c.deployables['web-farm'].bogus = 1;
    const problems = problemsOf(c);
    expect(problems).toContain('deployables.web-farm.process[1].window: must be ≥ 1');
    expect(problems.some((p) => p.startsWith('targets.web2.port:'))).toBe(true);
    expect(problems).toContain(
      'deployables.web-farm.process[2].childSteps: a rolling step needs at least one child step',
    );
    expect(problems).toContain('deployables.web-farm.bogus: unknown field');
  });

  it('checks references: targets, tags, duplicate names, conditions and variables', () => {
    const c = base() as any;
    c.deployables['web-farm'].targets.push('web9');
    c.deployables['web-farm'].process[0].tags = ['nope'];
    c.deployables['web-farm'].process[1].childSteps[1].name = 'take-out';
    c.deployables['web-farm'].process[1].childSteps[2].if = 'Output.later.Ok == "True"';
    c.deployables['web-farm'].process[1].childSteps[3].if = 'Release = 3';
    c.deployables['web-farm'].process[0].script = 'echo #{Missing}';
    const problems = problemsOf(c);
    expect(problems).toEqual(
      expect.arrayContaining([
        'deployables.web-farm.targets[1]: unknown target "web9" (known: web1, web2, db1)',
        'deployables.web-farm.process[0].tags: no target of this deployable carries any of nope',
        'deployables.web-farm.process[1].childSteps[1].name: duplicate step name "take-out"',
        'deployables.web-farm.process[1].childSteps[2].if: reads Output of "later", which is not an earlier step or child step',
        'deployables.web-farm.process[0].script: unknown variable #{Missing} (declare it under deployables.web-farm.variables or on every target)',
      ]),
    );
    expect(problems.some((p) => p.startsWith('deployables.web-farm.process[1].childSteps[3].if: bad condition'))).toBe(
      true,
    );
  });

  it('refuses an ssh target without credentials and a variable with a newline', () => {
    const c = base() as any;
    delete c.ssh.privateKeyPath;
    c.targets.web1.variables.Color = 'blue\nrm -rf /';
    const problems = problemsOf(c);
    expect(problems).toContain(
      'targets.web1.privateKeyPath: an ssh target needs privateKeyPath or privateKeyEnv (here or under ssh)',
    );
    expect(problems.some((p) => p.startsWith('targets.web1.variables.Color: variable Color: control characters'))).toBe(
      true,
    );
  });

  it('loads YAML from a file and reports parse errors with the file name', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'targets: [unclosed');
    expect(() => loadConfigFile(bad)).toThrow(/bad\.yaml: invalid config:\n {2}- cannot parse/);
    const cut = path.join(dir, 'cut.yaml');
    writeFileSync(
      cut,
      'targets: {}\ndeployables:\n  d:\n    targets: [x]\n    process:\n      - name: s\n        script: echo hi #{Machine.Name}\n',
    );
    expect(() => loadConfigFile(cut)).toThrow(/script: "#\{" starts a YAML comment here/);
    const missing = path.join(dir, 'missing.yaml');
    expect(() => loadConfigFile(missing)).toThrow(/cannot read/);
  });
});

describe('plan', () => {
  const cfg = validateConfig(base(), 'test.yaml', '/tmp');

  it('captures targets, steps and variables', () => {
    const plan = buildPlan(cfg, {
      deployable: 'web-farm',
      release: 'v2.1+build.7',
      requestedBy: 'U1',
      variables: { Port: '9090' },
    });
    expect(plan.targets.map((t) => t.name)).toEqual(['web1', 'web2']);
    expect(plan.variables).toEqual({ Port: '9090' });
    expect(plan.steps[1]).toMatchObject({ type: 'rolling', window: { percent: 50 } });
    expect(plan.steps[0]).toMatchObject({ type: 'script', childSteps: [{ name: 'prepare', timeoutSec: 600 }] });
  });

  it('refuses a hostile release, an unknown deployable and undeclared variables', () => {
    expect(() =>
      buildPlan(cfg, { deployable: 'web-farm', release: 'v2; touch /tmp/pwned', requestedBy: 'U1' }),
    ).toThrow(/invalid release "v2; touch \/tmp\/pwned"/);
    expect(() => buildPlan(cfg, { deployable: 'nope', release: 'v2', requestedBy: 'U1' })).toThrow(
      'unknown deployable "nope" (known: web-farm)',
    );
    expect(() =>
      buildPlan(cfg, { deployable: 'web-farm', release: 'v2', requestedBy: 'U1', variables: { Other: 'x' } }),
    ).toThrow(RequestError);
    expect(() =>
      buildPlan(cfg, { deployable: 'web-farm', release: 'v2', requestedBy: 'U1', variables: { Port: "1'\n" } }),
    ).toThrow(/control characters/);
  });
});
