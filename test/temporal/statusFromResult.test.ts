// `status` of a finished rollout answers from its recorded result, not by a query (which on a closed workflow makes
// a worker replay the whole history: 11-13 s at 1,000 targets). Proven with no worker left: a query then cannot be
// answered (the control), the summary still can.
import { localTargets as sharedLocalTargets } from '../support/rollouts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSummary, rolloutHandle, startRollout } from '../../src/temporal/client';
import { summaryQuery } from '../../workflows/messages';
import type { TargetPlan } from '../../domain/plan';
import { configFor, planFor, realTransports } from '../support/rollouts';
import { temporalTestEnv, uniqueName, type RunningWorker, type TemporalTestEnv } from '../support/temporal';

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;
let worker: RunningWorker;

beforeAll(async () => {
  env = await temporalTestEnv('status');
  transports = realTransports();
  worker = await env.startWorker(transports);
});
afterAll(async () => {
  await env?.close();
  await transports?.close();
});

const localTargets = (n: number): TargetPlan[] => sharedLocalTargets(n, { dirPrefix: 'status-' });

describe('summary of a finished rollout', { timeout: 60_000 }, () => {
  it('comes from the recorded result, without a worker', async () => {
    const deployable = uniqueName('svc');
    const cfg = configFor(localTargets(3), {
      [deployable]: { targets: ['tag:web'], process: [{ name: 'deploy', script: 'echo deployed' }] },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v7'));
    const running = await getSummary(env.client, handle.workflowId); // while running: the query
    expect(running.release).toBe('v7');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    await worker.stop();

    // The control: with no worker, a query on the closed workflow is not answered in time.
    const deadline = () => Date.now() + 3000;
    await expect(
      env.client.withDeadline(deadline(), () => rolloutHandle(env.client, handle.workflowId).query(summaryQuery)),
    ).rejects.toThrow();

    const t0 = performance.now();
    const summary = await env.client.withDeadline(deadline(), () => getSummary(env.client, handle.workflowId));
    const ms = performance.now() - t0;
    expect(summary).toEqual(result.summary);
    expect(summary).toMatchObject({ status: 'succeeded', release: 'v7', totalTargets: 3 });
    console.log(`summary of a finished rollout, no worker: ${ms.toFixed(1)} ms`);
  });
});
