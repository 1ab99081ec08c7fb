// A rollout waiting on a decision survives a restart of the Temporal server process: the server is killed
// (SIGKILL) and started again on the same PostgreSQL; then the answer is delivered and the rollout finishes.
import { localTargets as sharedLocalTargets } from '../support/rollouts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, rolloutHandle, startRollout } from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor, planFor, realTransports } from '../support/rollouts';
import { waitForSummary } from '../support/temporal';
import { clusterEnv, killServer, startServerAgain, type ClusterEnv } from './support';

let env: ClusterEnv;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  env = await clusterEnv('restart');
  transports = realTransports();
  await env.startWorker(transports);
});

afterAll(async () => {
  await env?.close();
  await transports?.close();
});

const localTargets = (n: number): TargetPlan[] => sharedLocalTargets(n, { dirPrefix: 'rollout-restart-' });

describe('the Temporal server restarts', () => {
  it('while a rollout waits on a decision: after the restart the answer is taken and the rollout finishes', async () => {
    const targets = localTargets(2);
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        approvers: ['U_ALICE'],
        process: [
          { name: 'before', script: 'touch before' },
          { type: 'manual', name: 'approve', instructions: 'Proceed after the restart' },
          { name: 'after', script: 'touch after' },
        ],
      },
    });
    const { client } = env.conn;
    const handle = await startRollout(client, env.taskQueue, planFor(cfg, 'app', 'v5'));
    const waiting = await waitForSummary(client, handle.workflowId, (s) => s.pendingDecisions.length === 1);
    expect(waiting.pendingDecisions[0]).toMatchObject({ kind: 'manual', step: 'approve' });

    const killed = await killServer();
    // Down for real: the frontend does not answer.
    await expect(
      client.withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({})),
    ).rejects.toThrow();
    const started = await startServerAgain();
    expect(started).not.toBe(killed);

    // The same client and worker connections carry on against the restarted server.
    const again = await waitForSummary(client, handle.workflowId, (s) => s.pendingDecisions.length === 1);
    expect(again.pendingDecisions[0]?.id).toBe(waiting.pendingDecisions[0]!.id);
    const answer = await decide(
      client,
      handle.workflowId,
      waiting.pendingDecisions[0]!.id,
      'proceed',
      'U_ALICE',
      60_000,
    );
    expect(answer, JSON.stringify(answer)).toMatchObject({ outcome: 'accepted' });
    const result = await rolloutHandle(client, handle.workflowId).result();
    expect(result.status).toBe('succeeded');
    for (const t of targets) {
      expect(existsSync(path.join(t.workdir, 'before'))).toBe(true);
      expect(existsSync(path.join(t.workdir, 'after'))).toBe(true);
    }
  });
});
