// A rollback, resolved on the client: the deployable's history read from its queue workflow, the rollback rule
// (domain/releases.ts) applied, and the plan built from today's config. It then goes through the same queue as
// any rollout, whose validator refuses it if it became stale meanwhile.
import { ownValue } from '../../domain/access';
import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../../domain/plan';
import { chooseRollback, type RollbackChoice } from '../../domain/releases';
import type { Config } from '../config/load';
import { buildPlan, RequestError } from '../config/plan';
import { getDeployableState, getSummary } from './client';
import { getReleaseHistory } from './deployables';

export interface RollbackRequest {
  deployable: string;
  requestedBy: string;
  /** The rollout to roll back (a Roll back button names it); it must be the deployable's latest. Default: the latest. */
  of?: string;
}

export type PreparedRollback =
  { ok: true; plan: RolloutPlan; choice: Extract<RollbackChoice, { ok: true }> } | { ok: false; reason: string };

/**
 * How long a rollback of a rollout that has just ended waits for its queue to record it (a click on a final
 * message can come a moment before the record): the queue records it within a workflow task of the end.
 */
const RECORD_WAIT_MS = 10_000;

/**
 * Resolves a rollback against the deployable's history (domain/releases.ts chooseRollback) and builds its plan
 * from today's config: the restored release with the deployable's own variables, on all its targets, or, when
 * the latest rollout failed or was stopped, only on the targets that began receiving it, in reverse start order.
 */
/** Has this rollout ended (its summary says so, or its workflow closed)? Unknown counts as not. */
async function hasEnded(client: Client, rolloutId: string): Promise<boolean> {
  try {
    return (await getSummary(client, rolloutId)).status !== 'running';
  } catch {
    return false;
  }
}

export async function prepareRollback(
  client: Client,
  taskQueue: string,
  config: Config,
  req: RollbackRequest,
): Promise<PreparedRollback> {
  const { deployable } = req;
  const d = ownValue(config.raw.deployables, deployable);
  if (!d) return { ok: false, reason: `unknown deployable ${deployable}` };
  let history = await getReleaseHistory(client, taskQueue, deployable);
  // The rollout to wait for: the one named, or (no `of`) a rollout the queue still shows running although its
  // workflow has ended: it is the latest release, recorded a moment later (a click right after the final message).
  let awaited = req.of;
  if (awaited === undefined) {
    const runningId = (await getDeployableState(client, taskQueue, deployable))?.running?.rolloutId;
    if (runningId !== undefined && (await hasEnded(client, runningId))) awaited = runningId;
  }
  if (awaited !== undefined) {
    const deadline = Date.now() + RECORD_WAIT_MS;
    while (history && !history.releases.some((r) => r.rolloutId === awaited) && Date.now() < deadline) {
      const state = await getDeployableState(client, taskQueue, deployable);
      const stillRunning = state?.running?.rolloutId === awaited;
      if (!stillRunning) {
        // Recorded (or gone) since the history was read: read it once more, then judge.
        history = await getReleaseHistory(client, taskQueue, deployable);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
      history = await getReleaseHistory(client, taskQueue, deployable);
    }
  }
  // With environments, a rollback stays in one: the environment of the rollout it undoes (`of`, else the latest
  // release of the deployable), judged on that environment's releases only.
  const all = history?.releases ?? [];
  const environment = d.environments
    ? (req.of !== undefined ? all.find((r) => r.rolloutId === req.of) : all.at(-1))?.environment
    : undefined;
  const releases = d.environments ? all.filter((r) => r.environment === environment) : all;
  const choice = chooseRollback(deployable, releases, req.of);
  if (!choice.ok) return choice;
  let plan: RolloutPlan;
  try {
    plan = buildPlan(config, {
      deployable,
      release: choice.to.release,
      requestedBy: req.requestedBy,
      ...(environment !== undefined ? { environment } : {}),
    });
  } catch (e) {
    if (e instanceof RequestError) return { ok: false, reason: e.problems.join('; ') };
    throw e;
  }
  if (choice.targets) {
    const byName = new Map(plan.targets.map((t) => [t.name, t]));
    const targets = choice.targets.map((n) => byName.get(n)).filter((t) => t !== undefined);
    if (targets.length === 0) {
      return {
        ok: false,
        reason: `none of the targets ${choice.current.release} reached (${choice.targets.join(', ')}) is still a target of ${deployable}`,
      };
    }
    plan.targets = targets;
  }
  plan.rollback = { of: choice.current.rolloutId, fromRelease: choice.current.release, partial: choice.partial };
  return { ok: true, plan, choice };
}
