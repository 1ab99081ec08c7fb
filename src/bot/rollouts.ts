// Worker-independent facts about rollouts, read straight from the Temporal server: the running ones (visibility)
// and the plan a rollout captured when it started (the first history event). A click can be checked against
// the rollout's own approvers even when no worker is up to answer a query.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutInput } from '../../workflows/messages';
import { isNotFound } from '../temporal/client';

export const RUNNING_ROLLOUTS_QUERY = "WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'";

/** Ids of the running rollout workflows (at most `limit`), newest first; only those of `taskQueue` when given. */
export async function listRunningRollouts(client: Client, limit = 1000, taskQueue?: string): Promise<string[]> {
  const ids: string[] = [];
  const query = taskQueue
    ? `${RUNNING_ROLLOUTS_QUERY} AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`
    : RUNNING_ROLLOUTS_QUERY;
  for await (const wf of client.workflow.list({ query })) {
    ids.push(wf.workflowId);
    if (ids.length >= limit) break;
  }
  return ids;
}

/** The plan a rollout started with, or undefined when there is no such workflow. */
export async function rolloutPlan(client: Client, rolloutId: string): Promise<RolloutPlan | undefined> {
  try {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: rolloutId },
      maximumPageSize: 1,
    });
    const started = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) return undefined;
    const input = fromPayloadsAtIndex<RolloutInput>(defaultPayloadConverter, 0, started.input?.payloads ?? []);
    return input?.plan;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
