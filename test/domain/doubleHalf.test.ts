// Double-half: the provision output rules, the new targets' connection template, the config shape and the plan.
import { describe, expect, it } from 'vitest';
import { parseProvisionLines, hookEnvironment } from '../../activities/doubleHalf';
import { doubleHalfText, MAX_NEW_TARGETS, newTargetPlan } from '../../domain/doubleHalf';
import { stepLines } from '../../activities/slack/blocks/summary';
import { formatSummary } from '../../src/cli/format';
import type { RolloutSummary } from '../../workflows/messages';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';

const line = (o: unknown) => `##rollout[target ${JSON.stringify(o)}]`;

describe('provision output', () => {
  it('reads one target per line and ignores other output', () => {
    const r = parseProvisionLines([
      'creating 2 machines',
      line({ name: 'web5', host: '10.0.0.15', port: 2222 }),
      line({ name: 'web6', host: 'web6.example.com', variables: { AppAddr: '10.0.0.16:8080' } }),
      'done',
    ]);
    expect(r.problems).toEqual([]);
    expect(r.targets).toEqual([
      { name: 'web5', host: '10.0.0.15', port: 2222 },
      { name: 'web6', host: 'web6.example.com', port: 22, variables: { AppAddr: '10.0.0.16:8080' } },
    ]);
  });

  it('refuses bad lines, naming the line and the field', () => {
    const r = parseProvisionLines(
      [
        'ok',
        line({ name: 'web5', host: '10.0.0.15' }),
        '##rollout[target {"name": "web6", host}]',
        line({ name: 'web 7', host: '10.0.0.17' }),
        line({ name: 'web8', host: '-oProxyCommand=evil' }),
        line({ name: 'web9', host: '10.0.0.19', port: 70000 }),
        line({ name: 'web10', host: '10.0.0.20', user: 'root' }),
        line({ name: 'web1', host: '10.0.0.21' }),
        line({ name: 'web5', host: '10.0.0.99' }),
        '##rollout[target {"name":"x","host":"h"}',
      ],
      ['web1'],
    );
    expect(r.targets.map((t) => t.name)).toEqual(['web5']);
    expect(r.problems).toHaveLength(8);
    expect(r.problems[0]).toMatch(/^provision output line 3: not JSON/);
    expect(r.problems[1]).toMatch(/^provision output line 4: name: must start with a letter/);
    expect(r.problems[2]).toMatch(/^provision output line 5: host: /);
    expect(r.problems[3]).toMatch(/^provision output line 6: port: /);
    expect(r.problems[4]).toMatch(/^provision output line 7: \(target\): .*user/);
    expect(r.problems[5]).toBe('provision output line 8: name: "web1" is already a target of this rollout');
    expect(r.problems[6]).toBe('provision output line 9: name: "web5" printed twice with different addresses');
    expect(r.problems[7]).toMatch(/^provision output line 10: a target line must end with "\]"/);
  });

  it('takes a line printed twice (a re-attached run) once', () => {
    const l = line({ name: 'web5', host: '10.0.0.15' });
    expect(parseProvisionLines([l, l])).toEqual({
      targets: [{ name: 'web5', host: '10.0.0.15', port: 22 }],
      problems: [],
    });
  });

  it(`refuses more than ${MAX_NEW_TARGETS} targets`, () => {
    const lines = Array.from({ length: MAX_NEW_TARGETS + 1 }, (_, i) => line({ name: `n${i}`, host: '10.0.0.1' }));
    expect(parseProvisionLines(lines).problems).toEqual([
      `provision printed ${MAX_NEW_TARGETS + 1} targets (at most ${MAX_NEW_TARGETS})`,
    ]);
  });
});

const step = (over: Record<string, unknown> = {}) => ({
  type: 'double-half',
  name: 'grow',
  provision: { script: './provision.sh' },
  addToLoadBalancer: { script: './lb-add.sh', timeoutSec: 30 },
  decommission: { script: './decommission.sh' },
  newTargets: { user: 'deploy', privateKeyPath: 'keys/id', knownHostsPath: 'new_known_hosts', workdir: '/srv/app' },
  childSteps: [{ name: 'deploy', script: 'echo deploy' }],
  ...over,
});
const config = (s: Record<string, unknown>) => ({
  targets: { web1: { transport: 'local', tags: ['web'] } },
  deployables: { farm: { targets: ['tag:web'], process: [s] } },
});

describe('config and plan', () => {
  it('plans a double-half step with resolved paths, strict host-key checking and defaults', () => {
    const cfg = validateConfig(config(step()), 'rollout.yaml', '/etc/rollout');
    const plan = buildPlan(cfg, { deployable: 'farm', release: 'v2', requestedBy: 'U1' });
    expect(plan.steps[0]).toEqual({
      type: 'double-half',
      name: 'grow',
      tags: [],
      runCondition: 'success',
      hookWorkdir: '/etc/rollout/.rollout/hooks/farm/grow',
      provision: { script: './provision.sh', timeoutSec: 600 },
      addToLoadBalancer: { script: './lb-add.sh', timeoutSec: 30 },
      decommission: { script: './decommission.sh', timeoutSec: 600 },
      newTargets: {
        user: 'deploy',
        privateKeyPath: '/etc/rollout/keys/id',
        knownHostsPath: '/etc/rollout/new_known_hosts',
        workdir: '/srv/app',
        tags: [],
        variables: {},
      },
      childSteps: [
        { name: 'deploy', script: 'echo deploy', timeoutSec: 600, runCondition: 'success', onFailure: 'guided' },
      ],
    });
    const t = newTargetPlan((plan.steps[0] as { newTargets: Parameters<typeof newTargetPlan>[0] }).newTargets, {
      name: 'web5',
      host: '10.0.0.15',
      port: 22,
      variables: { AppAddr: '10.0.0.15:8080' },
    });
    expect(t).toMatchObject({
      name: 'web5',
      transport: 'ssh',
      host: '10.0.0.15',
      user: 'deploy',
      knownHostsPath: '/etc/rollout/new_known_hosts',
      strictHostKeyChecking: true,
      variables: { AppAddr: '10.0.0.15:8080' },
    });
  });

  it('refuses a step without known_hosts, without a key, or turning host-key checking off, naming the field', () => {
    const nt = { user: 'deploy', privateKeyPath: 'k', knownHostsPath: 'kh' };
    const bad = (over: Record<string, unknown>) => () => validateConfig(config(step(over)), 'rollout.yaml', '/');
    expect(bad({ newTargets: { user: 'deploy', privateKeyPath: 'k' } })).toThrow(
      /deployables\.farm\.process\[0\]\.newTargets\.knownHostsPath/,
    );
    expect(bad({ newTargets: { user: 'deploy', knownHostsPath: 'kh' } })).toThrow(
      /newTargets.*needs privateKeyPath or privateKeyEnv/,
    );
    expect(bad({ newTargets: { ...nt, strictHostKeyChecking: false } })).toThrow(/strictHostKeyChecking/);
    expect(bad({ decommission: undefined })).toThrow(/process\[0\]\.decommission/);
    expect(bad({ childSteps: [] })).toThrow(/at least one child step/);
  });

  it('gives hooks the half and its targets', () => {
    const env = hookEnvironment({
      rolloutId: 'r',
      stepName: 'grow',
      hook: 'decommission',
      half: 'old',
      spec: { script: 'x', timeoutSec: 1 },
      hookWorkdir: '/tmp',
      targets: [
        { name: 'web1', host: '10.0.0.1', port: 22, variables: {} },
        { name: 'web2', host: '10.0.0.2', port: 2222, variables: { A: 'b' } },
      ],
      release: 'v2',
      deployable: 'farm',
      requestedBy: 'U1',
      variables: { LbSocket: '/run/haproxy.sock' },
    });
    expect(env).toMatchObject({
      ROLLOUT_HOOK: 'decommission',
      ROLLOUT_HALF: 'old',
      ROLLOUT_TARGETS: 'web1 web2',
      ROLLOUT_TARGET_HOSTS: '10.0.0.1:22 10.0.0.2:2222',
      ROLLOUT_VAR_LBSOCKET: '/run/haproxy.sock',
    });
    expect(JSON.parse(env.ROLLOUT_TARGETS_JSON ?? '')).toHaveLength(2);
  });

  it('status text shows both halves', () => {
    expect(
      doubleHalfText({
        phase: 'rolled-back',
        old: { count: 2, names: [], state: 'serving' },
        new: { count: 2, names: [], state: 'decommissioned' },
        problem: 'new half not ready',
      }),
    ).toBe('rolled-back: old half (2) serving · new half (2) decommissioned — new half not ready');
  });

  it('the Slack step line and the CLI status show both halves', () => {
    const summary = {
      rolloutId: 'r1',
      deployable: 'farm',
      release: 'v2',
      requestedBy: 'U1',
      status: 'running',
      startedAt: '2026-01-01T00:00:00.000Z',
      totalTargets: 4,
      currentStep: 'grow',
      steps: [
        {
          name: 'grow',
          type: 'double-half',
          state: 'running',
          counts: { pending: 0, running: 0, waiting: 0, succeeded: 2, failed: 0, skipped: 0, excluded: 0 },
          inFlight: [],
          inFlightCount: 0,
          doubleHalf: {
            phase: 'switching',
            old: { count: 2, names: ['web1', 'web2'], state: 'serving' },
            new: { count: 2, names: ['web5', 'web6'], state: 'ready' },
          },
        },
      ],
      pendingDecisions: [],
      recentDecisions: [],
    } as RolloutSummary;
    expect(stepLines(summary)).toEqual([
      ':arrow_forward: *grow* _double-half, switching: old half (2) serving · new half (2) ready_ — 2 succeeded',
    ]);
    expect(formatSummary(summary)).toContain('    switching: old half (2) serving · new half (2) ready');
  });
});
