// The client side of rollouts: start, observe, cancel and answer decisions. Used by the CLI and the bot.
import { randomBytes } from 'node:crypto';
import {
  Client,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { deployableWorkflow } from '../../workflows/deployable';
import {
  deployableStateQuery,
  deployableWorkflowId,
  enqueueUpdate,
  withdrawUpdate,
  type DeployableState,
  type EnqueueResult,
} from '../../workflows/queueMessages';
import {
  cancelUpdate,
  decideUpdate,
  summaryQuery,
  targetsQuery,
  type CancelResult,
  type DecideResult,
  type RolloutSummary,
  type TargetsPage,
  type TargetsQueryInput,
} from '../../workflows/messages';
import type { DecisionChoice } from '../../domain/decisions';
import type { rolloutWorkflow } from '../../workflows/rollout';
import type { RolloutPlan } from '../../domain/plan';

export function newRolloutId(plan: Pick<RolloutPlan, 'deployable' | 'release'>): string {
  return `rollout-${plan.deployable}-${plan.release}-${randomBytes(4).toString('hex')}`;
}

export async function startRollout(
  client: Client,
  taskQueue: string,
  plan: RolloutPlan,
  rolloutId = newRolloutId(plan),
  opts: { continueAsNewAfterEvents?: number } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof rolloutWorkflow>> {
  return client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue,
    workflowId: rolloutId,
    args: [{ plan, ...opts }],
  });
}

/**
 * Puts a rollout in its deployable's queue (one rollout per deployable at a time, first come first served),
 * starting the deployable's long-lived workflow if it is not running yet (Update-with-Start).
 */
export async function enqueueRollout(
  client: Client,
  taskQueue: string,
  plan: RolloutPlan,
  rolloutId = newRolloutId(plan),
  requestedAt = new Date(),
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<EnqueueResult> {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof deployableWorkflow>('deployableWorkflow', {
    workflowId: deployableWorkflowId(plan.deployable, taskQueue),
    taskQueue,
    args: [{ deployable: plan.deployable }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.executeUpdateWithStart(enqueueUpdate, {
        args: [{ rolloutId, plan, requestedAt: requestedAt.toISOString() }],
        updateId: `enqueue/${rolloutId}`,
        startWorkflowOperation,
      }),
    );
  } catch (e) {
    if (isTimeout(e)) throw new NotConfirmedError(rolloutId, timeoutMs);
    throw e;
  }
}

export async function getDeployableState(
  client: Client,
  taskQueue: string,
  deployable: string,
): Promise<DeployableState | undefined> {
  try {
    return await client.workflow.getHandle(deployableWorkflowId(deployable, taskQueue)).query(deployableStateQuery);
  } catch (e) {
    if (/not found/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

export async function withdrawRollout(
  client: Client,
  taskQueue: string,
  deployable: string,
  rolloutId: string,
  by: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<{ rolloutId: string; withdrawn: true }>> {
  return deliver(client, timeoutMs, () =>
    client.workflow.getHandle(deployableWorkflowId(deployable, taskQueue)).executeUpdate(withdrawUpdate, { args: [{ rolloutId, by }] }),
  );
}

/** Waits until a queued rollout's workflow exists (it starts when the deployable frees up). */
export async function waitUntilStarted(client: Client, rolloutId: string, pollMs = 500, signal?: AbortSignal): Promise<void> {
  for (;;) {
    try {
      await rolloutHandle(client, rolloutId).describe();
      return;
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
    }
    if (signal?.aborted) throw new Error('aborted');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function rolloutHandle(client: Client, rolloutId: string): WorkflowHandle<typeof rolloutWorkflow> {
  return client.workflow.getHandle<typeof rolloutWorkflow>(rolloutId);
}

export async function getSummary(client: Client, rolloutId: string): Promise<RolloutSummary> {
  return rolloutHandle(client, rolloutId).query(summaryQuery);
}

export async function getTargets(client: Client, rolloutId: string, input: TargetsQueryInput = {}): Promise<TargetsPage> {
  return rolloutHandle(client, rolloutId).query(targetsQuery, input);
}

/** What happened to an answer or a cancel: it took effect, the workflow refused it, or it could not be delivered. */
export type Delivery<T> =
  | { outcome: 'accepted'; result: T }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'undelivered'; reason: string };

/** How long a caller keeps trying to deliver a decision when no worker is up. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;

function isTimeout(err: unknown): boolean {
  for (let e = err as (Error & { code?: number; cause?: unknown }) | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === 4 || e.code === 1 || /deadline|timed? ?out|call cancelled/i.test(e.message ?? '')) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Raised when a request to a deployable's queue was not confirmed in time (usually: no worker running). */
export class NotConfirmedError extends Error {
  constructor(readonly rolloutId: string, timeoutMs: number) {
    super(
      `the request for ${rolloutId} was not confirmed within ${Math.round(timeoutMs / 1000)}s (is a worker running?); ` +
        'it may still be taken when a worker picks it up: check with `rollout status` or `/rollout list` before asking again',
    );
    this.name = 'NotConfirmedError';
  }
}

async function deliver<T>(client: Client, timeoutMs: number, send: () => Promise<T>): Promise<Delivery<T>> {
  try {
    const result = await client.withDeadline(Date.now() + timeoutMs, send);
    return { outcome: 'accepted', result };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as Error | undefined;
      return { outcome: 'rejected', reason: cause?.message ?? err.message };
    }
    const e = err as Error & { code?: number };
    // gRPC DEADLINE_EXCEEDED (4) / CANCELLED (1), possibly wrapped: nothing took the update in time (usually: no
    // worker running).
    if (isTimeout(err)) {
      return {
        outcome: 'undelivered',
        reason:
          `not confirmed within ${Math.round(timeoutMs / 1000)}s (is a worker running?). ` +
          'Nothing has changed yet; the answer may still take effect when a worker picks it up. ' +
          'Sending the same answer again is safe.',
      };
    }
    if (/not found/i.test(e.message)) return { outcome: 'rejected', reason: `no such rollout: ${e.message}` };
    if (/already completed|workflow execution already completed/i.test(e.message)) {
      return { outcome: 'rejected', reason: 'the rollout has already ended' };
    }
    return { outcome: 'undelivered', reason: e.message };
  }
}

export async function decide(
  client: Client,
  rolloutId: string,
  decisionId: string,
  choice: DecisionChoice,
  by: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<DecideResult>> {
  return deliver(client, timeoutMs, () =>
    // A stable update id: the same answer sent again (a retry after "not confirmed") is the same update, so
    // Temporal returns the first one's result instead of running it twice.
    rolloutHandle(client, rolloutId).executeUpdate(decideUpdate, {
      args: [{ decisionId, choice, by }],
      updateId: `decide/${decisionId}/${choice}/${by}`,
    }),
  );
}

export async function cancelRollout(
  client: Client,
  rolloutId: string,
  by: string,
  reason?: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<CancelResult>> {
  return deliver(client, timeoutMs, () =>
    rolloutHandle(client, rolloutId).executeUpdate(cancelUpdate, { args: [{ by, ...(reason ? { reason } : {}) }] }),
  );
}
