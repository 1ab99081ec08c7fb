// Reading a rollout's state robustly: a completed rollout's summary comes from its result (no worker needed); a
// running one is queried with a deadline, so a missing worker gives a clear answer instead of a hang.
import type { Client } from '@temporalio/client';
import type { RolloutResult, RolloutSummary, TargetsPage } from '../../workflows/messages';
import { getSummary, getTargets, isNotConfirmedInTime, isNotFound, rolloutHandle } from '../temporal/client';

// From the command line nobody is waiting on a 3 s ack: a busy worker gets longer than in the bot (5 s).
export const QUERY_TIMEOUT_MS = 10_000;

export type SummaryFetch =
  | { kind: 'summary'; summary: RolloutSummary; closed: boolean }
  | { kind: 'missing'; reason: string }
  | { kind: 'unavailable'; temporalStatus: string; reason: string };

function queryFailure(e: unknown, timeoutMs: number): string {
  if (isNotConfirmedInTime(e)) {
    return `no worker answered within ${Math.round(timeoutMs / 1000)}s (is \`rollout worker\` running on the rollout's task queue?)`;
  }
  const err = e as Error & { cause?: Error };
  return err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
}

export async function fetchSummary(
  client: Client,
  rolloutId: string,
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<SummaryFetch> {
  const handle = rolloutHandle(client, rolloutId);
  let temporalStatus: string;
  let type: string;
  try {
    const d = await handle.describe();
    temporalStatus = d.status.name;
    type = d.type;
  } catch (e) {
    if (isNotFound(e)) return { kind: 'missing', reason: `no such rollout: ${rolloutId}` };
    throw e;
  }
  if (type !== 'rolloutWorkflow')
    return { kind: 'missing', reason: `${rolloutId} is not a rollout (workflow type ${type})` };
  if (temporalStatus === 'COMPLETED') {
    const result = (await handle.result()) as RolloutResult;
    return { kind: 'summary', summary: result.summary, closed: true };
  }
  try {
    const summary = await client.withDeadline(Date.now() + timeoutMs, () => getSummary(client, rolloutId));
    return { kind: 'summary', summary, closed: temporalStatus !== 'RUNNING' };
  } catch (e) {
    return { kind: 'unavailable', temporalStatus, reason: queryFailure(e, timeoutMs) };
  }
}

export async function fetchTarget(
  client: Client,
  rolloutId: string,
  target: string,
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<{ page: TargetsPage } | { error: string; notFound?: boolean }> {
  try {
    const page = await client.withDeadline(Date.now() + timeoutMs, () => getTargets(client, rolloutId, { target }));
    return { page };
  } catch (e) {
    if (isNotFound(e)) return { error: `no such rollout: ${rolloutId}`, notFound: true };
    return { error: queryFailure(e, timeoutMs) };
  }
}
