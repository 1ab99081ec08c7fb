// The client side of day-to-day operations on deployables: release history, locks, and the deployables that have
// a queue workflow. Used by the CLI and the bot. Outcomes are typed Deliveries; refusals carry their REFUSAL type.
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { DeployableLock } from '../../domain/locks';
import { REFUSAL } from '../../domain/failures';
import type { deployableWorkflow } from '../../workflows/deployable';
import { deployableStateQuery, deployableWorkflowId, type DeployableState } from '../../workflows/queueMessages';
import {
  lockUpdate,
  releaseHistoryQuery,
  unlockUpdate,
  type LockInput,
  type ReleaseHistory,
} from '../../workflows/releaseMessages';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  getDeployableState,
  isNotConfirmedInTime,
  isNotFound,
  refusalOf,
  type Delivery,
} from './client';

/** The deployable's history, or undefined when it never had a queue workflow (nothing rolled out, never locked). */
export async function getReleaseHistory(
  client: Client,
  taskQueue: string,
  deployable: string,
): Promise<ReleaseHistory | undefined> {
  try {
    return await client.workflow.getHandle(deployableWorkflowId(deployable, taskQueue)).query(releaseHistoryQuery);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** An update's outcome as a Delivery: refused (typed), not confirmed in time, or accepted. */
async function delivered<T>(client: Client, timeoutMs: number, send: () => Promise<T>): Promise<Delivery<T>> {
  try {
    return { outcome: 'accepted', result: await client.withDeadline(Date.now() + timeoutMs, send) };
  } catch (e) {
    const refusal = refusalOf(e);
    if (refusal) return { outcome: 'rejected', ...refusal };
    if (isNotConfirmedInTime(e)) {
      return {
        outcome: 'undelivered',
        reason: `not confirmed within ${Math.round(timeoutMs / 1000)}s (is a worker running?); nothing has changed yet, sending it again is safe`,
      };
    }
    return { outcome: 'undelivered', reason: (e as Error).message };
  }
}

/** Locks a deployable (starting its workflow if it has none yet: a deployable can be locked before its first rollout). */
export function lockDeployable(
  client: Client,
  taskQueue: string,
  deployable: string,
  request: LockInput,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<DeployableLock>> {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof deployableWorkflow>('deployableWorkflow', {
    workflowId: deployableWorkflowId(deployable, taskQueue),
    taskQueue,
    args: [{ deployable }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return delivered(client, timeoutMs, () =>
    client.workflow.executeUpdateWithStart(lockUpdate, { args: [request], startWorkflowOperation }),
  );
}

export async function unlockDeployable(
  client: Client,
  taskQueue: string,
  deployable: string,
  by: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<DeployableLock>> {
  const handle = client.workflow.getHandle(deployableWorkflowId(deployable, taskQueue));
  const r = await delivered(client, timeoutMs, () => handle.executeUpdate(unlockUpdate, { args: [{ by }] }));
  // No workflow: never rolled out, never locked.
  if (r.outcome === 'undelivered' && !(await getDeployableState(client, taskQueue, deployable).catch(() => ({})))) {
    return { outcome: 'rejected', reason: `${deployable} is not locked`, type: REFUSAL.notLocked };
  }
  return r;
}

export const DEPLOYABLES_QUERY = "WorkflowType = 'deployableWorkflow' AND ExecutionStatus = 'Running'";

/** The queue state of every deployable with a running queue workflow on `taskQueue` (at most `limit`), by name. */
export async function listDeployables(client: Client, taskQueue: string, limit = 200): Promise<DeployableState[]> {
  const ids: string[] = [];
  const query = `${DEPLOYABLES_QUERY} AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  for await (const wf of client.workflow.list({ query })) {
    ids.push(wf.workflowId);
    if (ids.length >= limit) break;
  }
  const states = await Promise.all(
    ids.map((id) =>
      client.workflow
        .getHandle(id)
        .query(deployableStateQuery)
        .catch(() => undefined),
    ),
  );
  return states
    .filter((s): s is DeployableState => s !== undefined)
    .sort((a, b) => a.deployable.localeCompare(b.deployable));
}
