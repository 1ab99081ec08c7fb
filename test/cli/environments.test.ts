// `rollout start --env` and `rollout promote` end to end: the real CLI as child processes, a `rollout worker`
// process, local-transport targets (staging: a; production: b, c) and the shared Temporal dev server.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from './helpers';

const address = inject('temporalAddress');
const taskQueue = `cli-environments-${randomBytes(4).toString('hex')}`;
const fixture = localConfig({
  web: {
    environments: { staging: { targets: ['a'] }, production: { targets: ['b', 'c'] } },
    lifecycle: ['staging', 'production'],
    process: [{ name: 'write', script: 'printf "%s %s" #{Release} #{Environment} > version' }],
  },
});
const env = cliEnv({ TEMPORAL_ADDRESS: address, ROLLOUT_TASK_QUEUE: taskQueue, ROLLOUT_CONFIG: fixture.configPath });
const cli = (...args: string[]) => runCli(args, env);
const version = (t: string) => {
  const f = path.join(fixture.workdir(t), 'version');
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};

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

describe('rollout start --env, rollout promote', () => {
  it('production refuses v2 before staging; promote rolls it on after', async () => {
    const validated = await cli('validate', fixture.configPath);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain('web: environments staging, production; lifecycle staging → production');

    const noEnv = await cli('start', 'web', 'v2');
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toMatch(/web has environments \(staging, production\): say which one/);

    const early = await cli('start', 'web', 'v2', '--env', 'production');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/not started: v2 has not succeeded in staging/);
    const nothing = await cli('promote', 'web', 'v2');
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/v2 has not succeeded in any environment of web yet: roll it out to staging first/);
    expect(['a', 'b', 'c'].map(version)).toEqual([undefined, undefined, undefined]);

    const staged = await cli('start', 'web', 'v2', '--env', 'staging', '--wait');
    expect(staged.code).toBe(0);
    expect(['a', 'b', 'c'].map(version)).toEqual(['v2 staging', undefined, undefined]);

    // The queue records the release a moment after the rollout ends: promote until it is seen.
    let promoted = await cli('promote', 'web', 'v2', '--wait');
    for (let i = 0; i < 50 && promoted.code === 2; i++) promoted = await cli('promote', 'web', 'v2', '--wait');
    expect(promoted.code).toBe(0);
    expect(promoted.stderr).toContain('promoting web v2 from staging to production');
    expect(['a', 'b', 'c'].map(version)).toEqual(['v2 staging', 'v2 production', 'v2 production']);
    const last = await cli('promote', 'web', 'v2');
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/already succeeded in production, the last environment of web/);
  });
});
