// Workflow queries from listeners, always bounded in time: a query needs a worker, and a listener must never hang
// on one (the person is told "no worker to ask right now" instead).
import type { DeployableState } from '../../workflows/queueMessages';
import { getDeployableState } from '../temporal/client';
import type { BotContext } from './context';

/**
 * For an answer someone is waiting for (`/rollout status`, `list`, `cancel`, `status` in a thread). A worker that
 * is up answers in milliseconds; 5 s rides out a busy one, and the reply still comes well inside the time people
 * wait for a slash command.
 */
export const QUERY_TIMEOUT_MS = 5000;
/** Per rollout while looking through the running ones for a thread's rollout (many in a row: kept shorter). */
export const SCAN_QUERY_TIMEOUT_MS = 3000;

/** A query bounded in time (queries need a worker; never hang a listener on one). */
export function bounded<T>(ctx: BotContext, ms: number, fn: () => Promise<T>): Promise<T> {
  return ctx.client.withDeadline(Date.now() + ms, fn);
}

/** The queue state of every configured deployable that answered in time. */
export async function deployableStates(ctx: BotContext): Promise<DeployableState[]> {
  const names = Object.keys(ctx.config.raw.deployables);
  const states = await Promise.all(
    names.map((n) =>
      bounded(ctx, QUERY_TIMEOUT_MS, () => getDeployableState(ctx.client, ctx.taskQueue, n)).catch(() => undefined),
    ),
  );
  return states.filter((s): s is DeployableState => s !== undefined);
}
