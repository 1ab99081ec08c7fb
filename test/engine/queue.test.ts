// One rollout per deployable at a time: a FIFO queue in a long-lived workflow per deployable.
import { localTargets as sharedLocalTargets } from '../support/rollouts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enqueueRollout,
  getDeployableState,
  rolloutHandle,
  waitUntilStarted,
  withdrawRollout,
} from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor, planFor, readTargetFile, realTransports, timeline } from '../support/rollouts';
import { temporalTestEnv, uniqueName, type TemporalTestEnv } from '../support/temporal';

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  env = await temporalTestEnv('queue');
  transports = realTransports();
  await env.startWorker(transports);
});
afterAll(async () => {
  await env?.close();
  await transports?.close();
});

const localTargets = (n: number): TargetPlan[] => sharedLocalTargets(n, { dirPrefix: 'queue-' });

describe('deployable queue', () => {
  it('queues a second rollout behind the running one, starts it when the first ends; a withdrawn one never runs', async () => {
    const deployable = uniqueName('svc');
    const targets = localTargets(2);
    const cfg = configFor(targets, {
      [deployable]: {
        targets: ['tag:web'],
        process: [
          {
            name: 'deploy',
            script:
              'echo "start #{Release} $(date +%s.%N)" >> timeline-#{Release}; sleep 1; printf %s #{Release} > version; echo "end #{Release} $(date +%s.%N)" >> timeline-#{Release}',
          },
        ],
      },
    });
    const first = await enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v1'));
    expect(first.position).toBe(0);
    const second = await enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v2', 'U_BOB'));
    expect(second).toMatchObject({ position: 1, runningRolloutId: first.rolloutId });
    const third = await enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v3', 'U_CAROL'));
    expect(third.position).toBe(2);

    const state = await getDeployableState(env.client, env.taskQueue, deployable);
    expect(state?.running?.rolloutId).toBe(first.rolloutId);
    expect(state?.queued.map((q) => q.release)).toEqual(['v2', 'v3']);

    // Only the requester (or an approver) may withdraw; then it is gone from the queue.
    const refused = await withdrawRollout(env.client, env.taskQueue, deployable, third.rolloutId, 'U_MALLORY');
    expect(refused.outcome === 'rejected' && refused.reason).toMatch(/U_MALLORY may not withdraw/);
    expect((await withdrawRollout(env.client, env.taskQueue, deployable, third.rolloutId, 'U_CAROL')).outcome).toBe(
      'accepted',
    );

    await waitUntilStarted(env.client, second.rolloutId);
    expect((await rolloutHandle(env.client, second.rolloutId).result()).status).toBe('succeeded');
    const r1 = await rolloutHandle(env.client, first.rolloutId).result();
    expect(r1.status).toBe('succeeded');
    for (const t of targets) {
      expect(readTargetFile(t, 'version')).toBe('v2');
      const v1 = timeline(t, 'timeline-v1') as { start: number; end: number };
      const v2 = timeline(t, 'timeline-v2') as { start: number; end: number };
      expect(v2.start).toBeGreaterThanOrEqual(v1.end);
      expect(readTargetFile(t, 'timeline-v3')).toBeUndefined();
    }
    const after = await getDeployableState(env.client, env.taskQueue, deployable);
    expect(after?.recent.map((r) => [r.release, r.status])).toEqual([
      ['v1', 'succeeded'],
      ['v2', 'succeeded'],
    ]);
    await expect(rolloutHandle(env.client, third.rolloutId).describe()).rejects.toThrow(/not found/i);
  });
});
