// `rollout bundle` writes the workflow bundle the image ships; a worker given ROLLOUT_WORKFLOW_BUNDLE loads it
// (and refuses to start without it) and runs a rollout with it.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli } from './helpers';

const address = inject('temporalAddress');
const fixture = localConfig({
  web: { targets: ['tag:web'], process: [{ name: 'write', script: 'printf %s #{Release} > version' }] },
});
const bundle = path.join(fixture.dir, 'dist', 'workflows.js');

afterAll(async () => {
  await killAllCli();
  rmSync(fixture.dir, { recursive: true, force: true });
});

describe('rollout bundle', () => {
  it('writes a bundle that a worker loads to run a rollout', async () => {
    const taskQueue = `bundle-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      TEMPORAL_ADDRESS: address,
      ROLLOUT_TASK_QUEUE: taskQueue,
      ROLLOUT_CONFIG: fixture.configPath,
    });
    const b = await runCli(['bundle', bundle], env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/workflow bundle written to .*workflows\.js/);
    expect(statSync(bundle).size).toBeGreaterThan(10_000);
    expect(readFileSync(bundle, 'utf8')).toMatch(/rolloutWorkflow/);

    const worker = spawnCli(['worker'], { ...env, ROLLOUT_WORKFLOW_BUNDLE: bundle });
    await worker.waitFor(/worker ready on task queue/, 90_000);
    const r = await runCli(['start', 'web', 'v7', '--wait'], env);
    expect(r.code, r.stderr).toBe(0);
    for (const t of ['a', 'b', 'c']) expect(readFileSync(path.join(fixture.workdir(t), 'version'), 'utf8')).toBe('v7');
    expect((await worker.stop('SIGTERM')).code).toBe(0);
  });

  it('a worker whose ROLLOUT_WORKFLOW_BUNDLE is missing does not start, and names the file', async () => {
    const missing = path.join(fixture.dir, 'nowhere.js');
    expect(existsSync(missing)).toBe(false);
    const env = cliEnv({
      TEMPORAL_ADDRESS: address,
      ROLLOUT_TASK_QUEUE: `bundle-${randomBytes(4).toString('hex')}`,
      ROLLOUT_WORKFLOW_BUNDLE: missing,
    });
    const r = await runCli(['worker'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nowhere.js');
  });
});
