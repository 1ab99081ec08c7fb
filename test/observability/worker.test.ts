// `rollout worker` as operators run it: JSON log lines on stdout carrying the rollout id, Prometheus metrics
// (the SDK's own and the rollout counters the workflows emit) and /healthz, /readyz, scraped during a rollout.
// The worker is the real CLI process; targets run locally; Temporal is the shared dev server.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSummary } from '../../workflows/messages';
import { getFreePort } from '../../src/temporal/devServer';
import { Client, Connection } from '@temporalio/client';
import { cliEnv, killAllCli, localConfig, runCli, spawnCli, type CliProcess } from '../cli/helpers';
import { waitForSummary } from '../support/temporal';
import { metricValue, scrape } from './prometheus';

const address = inject('temporalAddress');
const taskQueue = `observe-${randomBytes(4).toString('hex')}`;
const fixture = localConfig({
  web: {
    targets: ['tag:web'],
    process: [
      {
        type: 'rolling',
        name: 'deploy',
        window: 2,
        childSteps: [{ name: 'write', script: 'printf %s #{Release} > v' }],
      },
      { type: 'manual', name: 'verify', instructions: 'Look, then Proceed.' },
    ],
  },
});
let metricsPort: number;
let healthPort: number;
let worker: CliProcess;
let env: NodeJS.ProcessEnv;
let connection: Connection;
let client: Client;
const cli = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  [metricsPort, healthPort] = [await getFreePort(), await getFreePort()];
  env = cliEnv({
    TEMPORAL_ADDRESS: address,
    ROLLOUT_TASK_QUEUE: taskQueue,
    ROLLOUT_CONFIG: fixture.configPath,
    ROLLOUT_METRICS_PORT: String(metricsPort),
    ROLLOUT_HEALTH_PORT: String(healthPort),
  });
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  worker = spawnCli(['worker'], env);
  await worker.waitFor(/worker ready on task queue/, 90_000);
});

afterAll(async () => {
  if (worker) expect((await worker.stop('SIGTERM')).code).toBe(0);
  await killAllCli();
  await connection?.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

const waitForStatus = (id: string, pred: (s: RolloutSummary) => boolean) => waitForSummary(client, id, pred);

/** Polls the metrics page until `pred` holds on it (the SDK exports workflow metrics asynchronously). */
async function waitForMetrics(pred: (page: string) => boolean): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const page = await scrape(metricsPort);
    if (pred(page)) return page;
    if (Date.now() > deadline) throw new Error(`metrics never matched; last page:\n${page}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const logLines = () =>
  worker
    .stdout()
    .split('\n')
    .filter((l) => l.trim() !== '');

describe('rollout worker: health, metrics, logs', () => {
  it('answers /healthz and /readyz (connected to Temporal, worker running)', async () => {
    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(body.checks.temporal?.ok).toBe(true);
    expect(body.checks.worker).toEqual({ ok: true, detail: 'RUNNING' });
    expect((await fetch(`http://127.0.0.1:${healthPort}/nope`)).status).toBe(404);
  });

  it('the rollout counters move during a rollout, next to the SDK’s own metrics on the same endpoint', async () => {
    // The workflow metric meter tags with camelCase keys (taskQueue, workflowType), unlike the SDK's own metrics.
    const labels = { deployable: 'web', taskQueue };
    const before = await scrape(metricsPort);
    expect(before).toMatch(/^temporal_/m); // the SDK's own metrics
    const started0 = metricValue(before, 'rollout_rollouts_started_total', labels);
    const ended0 = metricValue(before, 'rollout_rollouts_ended_total', { ...labels, status: 'succeeded' });
    const targets0 = metricValue(before, 'rollout_targets_total', { ...labels, outcome: 'succeeded' });
    const waits0 = metricValue(before, 'rollout_decision_wait_seconds_count', { ...labels, kind: 'manual' });

    const r = await runCli(['start', 'web', 'v1'], { ...env, ROLLOUT_TEMPORAL_UI_URL: 'http://ui.example:8080/' });
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    // stdout is the id alone (for scripts); the Temporal UI link, in the rollout's namespace, on stderr.
    expect(r.stdout).toBe(`${id}\n`);
    expect(r.stderr).toContain(`rollout: Temporal UI: http://ui.example:8080/namespaces/default/workflows/${id}`);
    const s = await waitForStatus(id, (x) => x.pendingDecisions.length > 0);

    // Mid-rollout (the manual step waits): started and the deploy step's targets counted, not the end.
    const during = await waitForMetrics(
      (p) =>
        metricValue(p, 'rollout_rollouts_started_total', labels) === started0 + 1 &&
        metricValue(p, 'rollout_targets_total', { ...labels, outcome: 'succeeded' }) === targets0 + 3,
    );
    expect(metricValue(during, 'rollout_decisions_opened_total', { ...labels, kind: 'manual' })).toBeGreaterThan(0);
    expect(metricValue(during, 'rollout_rollouts_ended_total', { ...labels, status: 'succeeded' })).toBe(ended0);

    const d = await cli('decide', id, s.pendingDecisions[0]!.id, 'proceed', '--as', 'cli:ops');
    expect(d.code, d.stderr).toBe(0);
    await waitForStatus(id, (x) => x.status === 'succeeded');
    const after = await waitForMetrics(
      (p) => metricValue(p, 'rollout_rollouts_ended_total', { ...labels, status: 'succeeded' }) === ended0 + 1,
    );
    expect(metricValue(after, 'rollout_decision_wait_seconds_count', { ...labels, kind: 'manual' })).toBe(waits0 + 1);
    expect(after).toMatch(/^rollout_decision_wait_seconds_bucket\{.*le="3600".*\} \d+/m);

    // Every line on stdout is JSON; the rollout's lines (workflow, chains, script activities) carry its id.
    // (Log lines reach stdout a little after the state does: the Runtime buffers them ~100 ms to order them.)
    await worker.waitFor(new RegExp(`"rolloutId":"${id}"[^\\n]*"msg":"rollout succeeded"`), 10_000);
    const lines = logLines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const ours = lines.filter((l) => l.rolloutId === id);
    const msgs = ours.map((l) => l.msg);
    expect(msgs).toContain('rollout started');
    expect(msgs).toContain('decision waiting');
    expect(msgs).toContain('rollout succeeded');
    const script = ours.find((l) => l.msg === 'script succeeded');
    expect(script).toMatchObject({ level: 'info', service: 'worker', step: 'deploy', childStep: 'write', exitCode: 0 });
    expect(typeof script?.target).toBe('string');
    expect(typeof script?.time).toBe('string');
  });
});
