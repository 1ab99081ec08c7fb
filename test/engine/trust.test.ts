// Authorisation enforced in the workflows themselves (direct client calls, no bot in front) and honest outcomes:
// real Temporal, local targets, and one ssh target nothing listens for (connection refused: the script never runs).
import { localTargets as sharedLocalTargets } from '../support/rollouts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL } from '../../domain/failures';
import type { TargetPlan } from '../../domain/plan';
import {
  cancelRollout,
  decide,
  enqueueRollout,
  getTargets,
  rolloutHandle,
  startRollout,
  waitUntilStarted,
  withdrawRollout,
} from '../../src/temporal/client';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import { configFor, planFor, realTransports } from '../support/rollouts';
import { temporalTestEnv, uniqueName, waitForSummary, type TemporalTestEnv } from '../support/temporal';

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  env = await temporalTestEnv('trust');
  transports = realTransports();
  await env.startWorker(transports);
});
afterAll(async () => {
  await env?.close();
  await transports?.close();
});

const localTargets = (n: number): TargetPlan[] => sharedLocalTargets(n, { dirPrefix: 'trust-' });

/** An ssh target on a loopback address nothing listens on: every connection is refused, no script ever starts. */
function unreachableTarget(name: string): TargetPlan {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trust-ssh-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
  writeFileSync(path.join(dir, 'known_hosts'), '');
  return {
    name,
    transport: 'ssh',
    host: '127.0.7.2',
    port: 22,
    user: 'deploy',
    tags: ['web'],
    workdir: '/tmp/never',
    privateKeyPath: path.join(dir, 'key'),
    knownHostsPath: path.join(dir, 'known_hosts'),
    strictHostKeyChecking: false,
    variables: {},
  };
}

const failingDeploy = {
  type: 'rolling',
  name: 'deploy',
  window: 2,
  childSteps: [{ name: 'install', script: 'echo "health check failed" >&2; exit 3' }],
};

describe('one authorisation rule, in the workflow', () => {
  it('an approver list naming an empty group refuses an outsider (decide and cancel), straight to the workflow', async () => {
    const deployable = uniqueName('empty-group');
    const cfg = configFor(
      localTargets(1),
      { [deployable]: { targets: ['tag:web'], approvers: ['@ops'], process: [failingDeploy] } },
      { groups: { ops: [] } },
    );
    expect(cfg.warnings.join('\n')).toMatch(/groups\.ops: empty group/);
    const h = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable));
    const s = await waitForSummary(env.client, h.workflowId, (x) => x.pendingDecisions.length === 1);
    const d = s.pendingDecisions[0]!;

    const answer = await decide(env.client, h.workflowId, d.id, 'ignore', 'UNOBODY');
    expect(answer).toMatchObject({ outcome: 'rejected', type: REFUSAL.decisionRefused });
    expect(answer.outcome === 'rejected' && answer.reason).toMatch(/UNOBODY is not allowed to answer/);
    const cancel = await cancelRollout(env.client, h.workflowId, 'UNOBODY');
    expect(cancel).toMatchObject({ outcome: 'rejected', type: REFUSAL.cancelRefused });
    // Nothing changed: the decision still waits.
    expect((await waitForSummary(env.client, h.workflowId, () => true)).pendingDecisions.map((x) => x.id)).toEqual([
      d.id,
    ]);
    // The requester may still cancel (and the test leaves nothing running).
    expect((await cancelRollout(env.client, h.workflowId, 'U_ALICE')).outcome).toBe('accepted');
    expect((await h.result()).status).toBe('cancelled');
  });

  it('control: the same rollout with a member in the group takes that member’s answer', async () => {
    const deployable = uniqueName('group');
    const cfg = configFor(
      localTargets(1),
      { [deployable]: { targets: ['tag:web'], approvers: ['@ops'], process: [failingDeploy] } },
      { groups: { ops: ['U_OPS'] } },
    );
    const h = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable));
    const s = await waitForSummary(env.client, h.workflowId, (x) => x.pendingDecisions.length === 1);
    expect((await decide(env.client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'UNOBODY')).outcome).toBe(
      'rejected',
    );
    expect((await decide(env.client, h.workflowId, s.pendingDecisions[0]!.id, 'fail', 'U_OPS')).outcome).toBe(
      'accepted',
    );
    expect((await h.result()).status).toBe('failed');
  });

  it('a group approver may withdraw a queued rollout; an outsider may not', async () => {
    const deployable = uniqueName('withdraw');
    const cfg = configFor(
      localTargets(1),
      {
        [deployable]: {
          targets: ['tag:web'],
          approvers: ['@ops'],
          process: [{ type: 'manual', name: 'hold', instructions: 'wait' }],
        },
      },
      { groups: { ops: ['U_OPS'] } },
    );
    const first = await enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v1'));
    const second = await enqueueRollout(env.client, env.taskQueue, planFor(cfg, deployable, 'v2', 'U_BOB'));
    expect(second.position).toBe(1);
    const refused = await withdrawRollout(env.client, env.taskQueue, deployable, second.rolloutId, 'U_MALLORY');
    expect(refused).toMatchObject({ outcome: 'rejected', type: REFUSAL.withdrawRefused });
    const ok = await withdrawRollout(env.client, env.taskQueue, deployable, second.rolloutId, 'U_OPS');
    expect(ok.outcome).toBe('accepted');
    await waitUntilStarted(env.client, first.rolloutId);
    expect((await cancelRollout(env.client, first.rolloutId, 'U_ALICE')).outcome).toBe('accepted');
    await rolloutHandle(env.client, first.rolloutId).result();
  });
});

describe('honest outcomes', () => {
  it('Ignore on a target where the script never ran records "skipped (not run)", not succeeded', async () => {
    const deployable = uniqueName('not-run');
    const [ok] = localTargets(1);
    const cfg = configFor([ok!, unreachableTarget('far')], {
      [deployable]: {
        targets: ['tag:web'],
        process: [{ type: 'rolling', name: 'deploy', window: 2, childSteps: [{ name: 'install', script: 'true' }] }],
      },
    });
    const h = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable));
    const s = await waitForSummary(env.client, h.workflowId, (x) => x.pendingDecisions.length === 1, 90_000);
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({ target: 'far', childStep: 'install', notRun: true });
    expect(d.tail).toMatch(/connection-refused/);
    expect((await decide(env.client, h.workflowId, d.id, 'ignore', 'U_ALICE')).outcome).toBe('accepted');
    const result = await h.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.targetOutcomes).toEqual({ deployed: 1, excluded: 0, notRun: 1 });
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 1, skipped: 1 });
    const far = (await getTargets(env.client, h.workflowId, { target: 'far' })).targets[0]!;
    expect(far.state).toBe('skipped');
    expect(far.steps[0]).toMatchObject({ state: 'skipped', notRun: true });
    expect(far.steps[0]?.children[0]).toMatchObject({ name: 'install', state: 'skipped', notRun: true });
  });

  it('a step that deployed nowhere (one target excluded, one never reached) fails the rollout: nothing deployed', async () => {
    const deployable = uniqueName('nowhere');
    const [bad] = localTargets(1);
    const cfg = configFor([bad!, unreachableTarget('far')], {
      [deployable]: { targets: ['tag:web'], process: [failingDeploy, { name: 'after', script: 'touch after' }] },
    });
    const h = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable));
    const s = await waitForSummary(env.client, h.workflowId, (x) => x.pendingDecisions.length === 2, 90_000);
    for (const d of s.pendingDecisions) {
      const choice = d.target === 'far' ? 'ignore' : 'exclude';
      expect((await decide(env.client, h.workflowId, d.id, choice, 'U_ALICE')).outcome).toBe('accepted');
    }
    const result = await h.result();
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toMatch(/deploy: nothing deployed/);
    expect(result.summary.targetOutcomes).toEqual({ deployed: 0, excluded: 1, notRun: 1 });
    // The stopping rule: the next step does not run.
    expect(result.summary.steps[1]?.state).toBe('skipped');
  });

  it('a rollout whose targets were all excluded fails (nothing deployed) instead of succeeding', async () => {
    const deployable = uniqueName('all-excluded');
    const cfg = configFor(localTargets(2), {
      [deployable]: { targets: ['tag:web'], process: [failingDeploy, { name: 'after', script: 'touch after' }] },
    });
    const h = await startRollout(env.client, env.taskQueue, planFor(cfg, deployable));
    const s = await waitForSummary(env.client, h.workflowId, (x) => x.pendingDecisions.length === 2);
    for (const d of s.pendingDecisions) await decide(env.client, h.workflowId, d.id, 'exclude', 'U_ALICE');
    const result = await h.result();
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toMatch(/nothing deployed/);
    expect(result.summary.targetOutcomes).toEqual({ deployed: 0, excluded: 2, notRun: 0 });
  });
});

describe('queue positions', () => {
  it('after a worker restart, a request is not told it is behind a rollout that ended meanwhile', async () => {
    const qenv = await temporalTestEnv('trust-queue');
    try {
      let worker = await qenv.startWorker(transports);
      const deployable = uniqueName('restart');
      const cfg = configFor(localTargets(1), {
        [deployable]: { targets: ['tag:web'], process: [{ type: 'manual', name: 'hold', instructions: 'wait' }] },
      });
      const first = await enqueueRollout(qenv.client, qenv.taskQueue, planFor(cfg, deployable, 'v1'));
      await waitUntilStarted(qenv.client, first.rolloutId);
      await worker.stop();
      // While no worker runs: the running rollout ends, and a second request arrives. The next worker gets both
      // in one workflow task.
      await qenv.client.workflow.getHandle(first.rolloutId).terminate('ended while the worker was down');
      const secondPlan = planFor(cfg, deployable, 'v2', 'U_BOB');
      const secondId = `rollout-${deployable}-v2-after-restart`;
      const second = enqueueRollout(qenv.client, qenv.taskQueue, secondPlan, secondId, undefined, 60_000);
      const queueId = deployableWorkflowId(deployable, qenv.taskQueue);
      await admitted(qenv, queueId, `enqueue/${secondId}`);
      worker = await qenv.startWorker(transports);
      const answer = await second;
      expect(answer).toEqual({ rolloutId: secondId, position: 0 });
      // The scenario really happened: the update was accepted in the workflow task that saw the rollout end.
      const events = (await qenv.client.workflow.getHandle(queueId).fetchHistory()).events ?? [];
      const T = temporal.api.enums.v1.EventType;
      const ended = events.findIndex((e) => e.eventType === T.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED);
      const accepted = events.findIndex(
        (e) =>
          e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED &&
          e.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId !== undefined &&
          e.eventId !== null &&
          JSON.stringify(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId) ===
            JSON.stringify(`enqueue/${secondId}`),
      );
      expect(ended).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThan(ended);
      const between = events.slice(ended, accepted).filter((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      expect(between.length).toBe(1);
      await waitUntilStarted(qenv.client, secondId);
      await cancelRollout(qenv.client, secondId, 'U_BOB');
      await rolloutHandle(qenv.client, secondId).result();
    } finally {
      await qenv.close();
    }
  });
});

/** Waits until Temporal has admitted the update (it waits for a worker), asking the server, never sleeping blind. */
async function admitted(e: TemporalTestEnv, workflowId: string, updateId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await e.client.workflowService.pollWorkflowExecutionUpdate({
        namespace: 'default',
        updateRef: { workflowExecution: { workflowId }, updateId },
        waitPolicy: {
          lifecycleStage:
            temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage
              .UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
        },
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
