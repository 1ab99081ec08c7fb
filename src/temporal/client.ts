// The client side of rollouts: start, observe, cancel and answer decisions. Used by the CLI and the bot.
// Errors are told apart by the SDK's classes, gRPC status codes and the refusal's ApplicationFailure type, never by
// the wording of a message (that is for humans, and the workflows may change it).
import { randomBytes } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  ApplicationFailure,
  Client,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
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
import { expandList, type ApproverDirectory } from '../../activities/approvers';
import type { DecisionChoice } from '../../domain/decisions';
import { REFUSAL, type RefusalType } from '../../domain/failures';
import type { RolloutPlan } from '../../domain/plan';
import type { rolloutWorkflow } from '../../workflows/rollout';
import { targetsPage, unpackPages } from '../../workflows/rollout/pages';

export function newRolloutId(plan: Pick<RolloutPlan, 'deployable' | 'release' | 'environment'>): string {
  const env = plan.environment !== undefined ? `${plan.environment}-` : '';
  return `rollout-${plan.deployable}-${env}${plan.release}-${randomBytes(4).toString('hex')}`;
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
 * starting the deployable's long-lived workflow if it is not running yet (Update-with-Start). The plan's approvers
 * are expanded here (through `directory` when given: the bot's Slack groups) for the queue's withdraw check.
 */
export async function enqueueRollout(
  client: Client,
  taskQueue: string,
  plan: RolloutPlan,
  rolloutId = newRolloutId(plan),
  requestedAt = new Date(),
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
  directory?: ApproverDirectory,
): Promise<EnqueueResult> {
  const approverMembers = [...(await expandList(plan.approvers, plan.groups, directory)).members];
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof deployableWorkflow>('deployableWorkflow', {
    workflowId: deployableWorkflowId(plan.deployable, taskQueue),
    taskQueue,
    args: [{ deployable: plan.deployable }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.executeUpdateWithStart(enqueueUpdate, {
        args: [{ rolloutId, plan, requestedAt: requestedAt.toISOString(), approverMembers }],
        updateId: `enqueue/${rolloutId}`,
        startWorkflowOperation,
      }),
    );
  } catch (e) {
    if (isNotConfirmedInTime(e)) throw new NotConfirmedError(rolloutId, timeoutMs);
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
    if (isNotFound(e)) return undefined;
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
  const queue = client.workflow.getHandle(deployableWorkflowId(deployable, taskQueue));
  return deliver(client, queue, timeoutMs, () => queue.executeUpdate(withdrawUpdate, { args: [{ rolloutId, by }] }));
}

/** Waits until a queued rollout's workflow exists (it starts when the deployable frees up). */
export async function waitUntilStarted(
  client: Client,
  rolloutId: string,
  pollMs = 500,
  signal?: AbortSignal,
): Promise<void> {
  for (;;) {
    try {
      await rolloutHandle(client, rolloutId).describe();
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (signal?.aborted) throw new Error('aborted');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function rolloutHandle(client: Client, rolloutId: string): WorkflowHandle<typeof rolloutWorkflow> {
  return client.workflow.getHandle<typeof rolloutWorkflow>(rolloutId);
}

/**
 * The rollout's summary. A rollout that completed answers from its recorded result (the close event: one small
 * read), not by a query, which on a closed workflow replays its whole history (11-13 s for 1,000 targets). Every
 * other state (running, or closed without a result: failed, terminated, timed out) asks the workflow.
 */
export async function getSummary(client: Client, rolloutId: string): Promise<RolloutSummary> {
  const handle = rolloutHandle(client, rolloutId);
  const { status } = await handle.describe();
  if (status.name === 'COMPLETED') {
    const result = await handle.result();
    if (result?.summary) return result.summary;
  }
  return handle.query(summaryQuery);
}

/**
 * A page of the rollout's targets, or one target. A rollout that completed with its pages recorded in its result
 * (workflows/rollout/pages.ts) answers from the result with the query's own function: one small read, no replay,
 * no worker needed. Every other state (running; closed without a result: terminated, timed out; a result from
 * before pages were recorded, or whose pages did not fit) asks the workflow.
 */
export async function getTargets(
  client: Client,
  rolloutId: string,
  input: TargetsQueryInput = {},
): Promise<TargetsPage> {
  const handle = rolloutHandle(client, rolloutId);
  const { status } = await handle.describe();
  if (status.name === 'COMPLETED') {
    const result = await handle.result();
    if (result?.pages?.v === 1) {
      // The input as the query handler would receive it (through the payload converter: JSON).
      const query = JSON.parse(JSON.stringify(input)) as TargetsQueryInput;
      return targetsPage(unpackPages(result.pages), query);
    }
  }
  return handle.query(targetsQuery, input);
}

/**
 * What happened to an answer, a cancel or a withdraw: it took effect, it was refused, or it could not be delivered.
 * A refusal's `type` is the ApplicationFailure type the workflow refused with (REFUSAL in domain/failures.ts); it
 * is absent when the workflow refused with an untyped error, or when Temporal itself refused (no such workflow,
 * already ended). `reason` is for humans.
 */
export type Delivery<T> =
  | { outcome: 'accepted'; result: T }
  | { outcome: 'rejected'; reason: string; type?: RefusalType }
  | { outcome: 'undelivered'; reason: string };

/**
 * How long a caller keeps trying to deliver an answer when no worker is up. Long enough for a worker that is
 * restarting or busy to pick the update up; short enough that the person who clicked (or typed) is still there to
 * read "not confirmed yet" and decide to try again.
 */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;

/** Temporal has no such workflow (for an update: no such running one). The SDK's class, or a raw gRPC NOT_FOUND. */
export function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === grpcStatus.NOT_FOUND);
}

/** Nothing answered in time: the deadline passed or the call was cancelled (usually: no worker running). */
export function isNotConfirmedInTime(err: unknown): boolean {
  return (
    err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err) || isGrpcCancelledError(err)
  );
}

const REFUSAL_TYPES: ReadonlySet<string> = new Set(Object.values(REFUSAL));

/**
 * The workflow refused an update (its validator or handler threw): the failure in the cause, whatever its type,
 * with the type when it is one of REFUSAL's. Undefined for any other error.
 */
export function refusalOf(err: unknown): { reason: string; type?: RefusalType } | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause as Error | undefined;
  const type =
    cause instanceof ApplicationFailure && cause.type && REFUSAL_TYPES.has(cause.type)
      ? (cause.type as RefusalType)
      : undefined;
  return { reason: cause?.message ?? err.message, ...(type ? { type } : {}) };
}

/** Raised when a request to a deployable's queue was not confirmed in time (usually: no worker running). */
export class NotConfirmedError extends Error {
  constructor(
    readonly rolloutId: string,
    timeoutMs: number,
  ) {
    super(
      `the request for ${rolloutId} was not confirmed within ${Math.round(timeoutMs / 1000)}s (is a worker running?); ` +
        'it may still be taken when a worker picks it up: check with `rollout status` or `/rollout list` before asking again',
    );
    this.name = 'NotConfirmedError';
  }
}

/** Sends an update and tells its outcome apart (accepted, rejected with its refusal type, or not delivered). */
export async function deliver<T>(
  client: Client,
  target: WorkflowHandle,
  timeoutMs: number,
  send: () => Promise<T>,
): Promise<Delivery<T>> {
  try {
    const result = await client.withDeadline(Date.now() + timeoutMs, send);
    return { outcome: 'accepted', result };
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return { outcome: 'rejected', ...refusal };
    if (isNotConfirmedInTime(err)) {
      return {
        outcome: 'undelivered',
        reason:
          `not confirmed within ${Math.round(timeoutMs / 1000)}s (is a worker running?). ` +
          'Nothing has changed yet; the answer may still take effect when a worker picks it up. ' +
          'Sending the same answer again is safe.',
      };
    }
    const e = err as Error;
    // An update to a workflow that has ended gets the same NOT_FOUND as one to no workflow at all: ask which.
    if (isNotFound(err)) {
      const ended = await hasEnded(client, target, timeoutMs);
      if (ended === undefined) return { outcome: 'undelivered', reason: e.message };
      return { outcome: 'rejected', reason: ended ? 'the rollout has already ended' : `no such rollout: ${e.message}` };
    }
    return { outcome: 'undelivered', reason: e.message };
  }
}

/** After an update's NOT_FOUND: true when the workflow exists (so it has ended), false when there is none. */
async function hasEnded(client: Client, target: WorkflowHandle, timeoutMs: number): Promise<boolean | undefined> {
  try {
    await client.withDeadline(Date.now() + timeoutMs, () => target.describe());
    return true;
  } catch (e) {
    return isNotFound(e) ? false : undefined;
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
  const rollout = rolloutHandle(client, rolloutId);
  return deliver(client, rollout, timeoutMs, () =>
    // A stable update id: the same answer sent again (a retry after "not confirmed") is the same update, so
    // Temporal returns the first one's result instead of running it twice.
    rollout.executeUpdate(decideUpdate, {
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
  const rollout = rolloutHandle(client, rolloutId);
  return deliver(client, rollout, timeoutMs, () =>
    rollout.executeUpdate(cancelUpdate, { args: [{ by, ...(reason ? { reason } : {}) }] }),
  );
}
