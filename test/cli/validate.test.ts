// `rollout validate`, and what the CLI does with bad usage and a bad environment (no Temporal needed).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv, EnvError } from '../../src/env';
import { cliEnv, killAllCli, localConfig, runCli } from './helpers';

const good = localConfig({
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
  api: { targets: ['a'], process: [{ name: 'hello', script: 'echo hi' }] },
});
const env = cliEnv({});

afterAll(async () => {
  await killAllCli();
  rmSync(good.dir, { recursive: true, force: true });
});

describe('rollout validate', () => {
  it('accepts a good config and counts targets and deployables', async () => {
    const r = await runCli(['validate', good.configPath], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('OK: 3 targets, 2 deployables (web, api)');
  });

  it('prints every problem of a bad config, one per line, and exits 1', async () => {
    const bad = path.join(good.dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        targets: { a: { transport: 'local', bogus: 1 } },
        deployables: {
          x: {
            targets: ['a', 'nope'],
            process: [{ type: 'rolling', name: 'deploy', window: 0, childSteps: [{ name: 'c', script: 'true' }] }],
          },
        },
      }),
    );
    const r = await runCli(['validate', bad], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // Each names the path, then where the value is in the file (one line of JSON: line 1).
    const lines = r.stderr.split('\n');
    const at = (col: number) => ` (at ${bad}:1:${col})`;
    const text = JSON.stringify(JSON.parse(readFileSync(bad, 'utf8')));
    expect(lines).toContain(`targets.a.bogus: unknown field${at(text.indexOf('"bogus":1') + 9)}`);
    expect(lines).toContain(`deployables.x.process[0].window: must be ≥ 1${at(text.indexOf('"window":0') + 10)}`);
  });

  it('reports cross-field problems the same way', async () => {
    const bad = path.join(good.dir, 'refs.yaml');
    writeFileSync(
      bad,
      'targets:\n  a: { transport: local }\ndeployables:\n  x:\n    targets: [nope]\n    process: [{ name: s, script: "echo #{Missing}" }]\n',
    );
    const r = await runCli(['validate', bad], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^deployables\.x\.targets\[0\]: unknown target "nope"/m);
    expect(r.stderr).toMatch(/^deployables\.x\.process\[0\]\.script: unknown variable #\{Missing\}/m);
  });

  it('a missing file is a clear error', async () => {
    const r = await runCli(['validate', path.join(good.dir, 'missing.yaml')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read: ENOENT/);
  });
});

describe('usage and environment', () => {
  it('bad usage exits 2 with commander’s message', async () => {
    const r = await runCli(['decide', 'r', 'd1', 'maybe'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are fail, retry, ignore, exclude, proceed, abort/);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    const help = await runCli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/validate (\[options\] )?<config>/);
  });

  it('a bad environment variable is named, and nothing runs', async () => {
    const r = await runCli(['validate', good.configPath], cliEnv({ ROLLOUT_DEV_PORT_BASE: 'lots' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ROLLOUT_DEV_PORT_BASE: must be a whole number/);
    expect(r.stdout).toBe('');
  });

  it('start without a config says how to give one', async () => {
    const r = await runCli(['start', 'web', 'v2'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no config file: pass --config <file> or set ROLLOUT_CONFIG/);
  });

  it('loadEnv: defaults, explicit values, errors naming the variable', () => {
    const e = loadEnv({ ROLLOUT_DEV_PORT_BASE: '20000', TEMPORAL_NAMESPACE: '' });
    expect(e.TEMPORAL_NAMESPACE).toBe('default');
    expect(e.ROLLOUT_TASK_QUEUE).toBe('rollout');
    expect(e.ROLLOUT_STATE_DIR).toBe('.rollout');
    expect(e.ROLLOUT_DEV_PORT_BASE).toBe(20000);
    expect(e.TEMPORAL_ADDRESS).toBeUndefined();
    expect([...e.explicit]).toEqual(['ROLLOUT_DEV_PORT_BASE']);
    expect(() => loadEnv({ ROLLOUT_DEV_PORT_BASE: '70000', TEMPORAL_ADDRESS: 'no-port' })).toThrow(EnvError);
    try {
      loadEnv({ ROLLOUT_DEV_PORT_BASE: '70000', TEMPORAL_ADDRESS: 'no-port' });
    } catch (err) {
      const problems = (err as EnvError).problems.join('\n');
      expect(problems).toMatch(/^TEMPORAL_ADDRESS: must be host:port/m);
      expect(problems).toMatch(/^ROLLOUT_DEV_PORT_BASE: must be between 1024 and 64535/m);
    }
  });
});
