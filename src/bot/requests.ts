// A rollout requested from Slack: check the request, post the root message (so the rollout has a thread from the
// start), then put the rollout in its deployable's queue and keep the root message honest about what happened.
// A locked deployable is refused before anything is posted (the queue refuses it too, should the lock come later).
import type { App, RespondFn } from '@slack/bolt';
import { ownValue } from '../../domain/access';
import { ephemeral, lockNotice } from '../../activities/slack/blocks';
import { lockBlocks } from '../../domain/locks';
import type { RolloutPlan } from '../../domain/plan';
import { judgeFreeze } from '../config/freezes';
import { buildPlan, RequestError, resolveEnvironment, startersOf } from '../config/plan';
import { enqueueRollout, getDeployableState, newRolloutId, NotConfirmedError, refusalOf } from '../temporal/client';
import { background, startableDeployables, type BotContext } from './context';
import { errorWithHelp, notStartedRoot, queuedNotice, queuedRoot, requestedRoot, type PendingRoot } from './messages';
import { bounded, QUERY_TIMEOUT_MS } from './queries';
import { getReleaseHistory } from '../temporal/deployables';
import { choosePromotion } from '../../domain/environments';
import { replyEphemeral } from './replies';

/**
 * How long the lock is looked up before a request is posted. A worker answers in milliseconds; without one the
 * queue's own validator still refuses a locked request, so the person is not kept waiting for the look-up.
 */
const LOCK_LOOKUP_MS = 1500;

export interface SlackRequest {
  user: string;
  channel: string;
  deployable: string;
  release: string;
  /** `--override-freeze <reason>`: start during a deploy freeze (the deployable's freezeOverriders only). */
  overrideFreeze?: string;
  /** The deployable's environment (`/rollout web-farm v2 production`). */
  environment?: string;
}

/**
 * Returns whether the rollout is in its deployable's queue. `prepared` is a plan already built (a rollback's);
 * otherwise the plan is built from the config for the request.
 */
export async function requestRollout(
  ctx: BotContext,
  req: SlackRequest,
  respond: RespondFn,
  web: App['client'],
  prepared?: RolloutPlan,
): Promise<boolean> {
  const d = ownValue(ctx.config.raw.deployables, req.deployable);
  if (!d) {
    await replyEphemeral(
      respond,
      errorWithHelp(`unknown deployable \`${req.deployable}\``, await startableDeployables(ctx, req.user)),
    );
    return false;
  }
  let env;
  try {
    env = resolveEnvironment(req.deployable, d, req.environment);
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    await replyEphemeral(respond, errorWithHelp(e.problems.join('; '), await startableDeployables(ctx, req.user)));
    return false;
  }
  if (!(await ctx.directory.allows(req.user, startersOf(d, req.environment), ctx.config.raw.groups))) {
    const where = req.environment !== undefined ? ` in ${req.environment}` : '';
    await replyEphemeral(
      respond,
      errorWithHelp(`you may not roll out ${req.deployable}${where}`, await startableDeployables(ctx, req.user)),
    );
    return false;
  }
  // An environment with its own channel: its rollouts are posted there, whichever channel the command came from.
  const channel = env?.channel ?? req.channel;
  const state = await bounded(ctx, LOCK_LOOKUP_MS, () =>
    getDeployableState(ctx.client, ctx.taskQueue, req.deployable),
  ).catch(() => undefined);
  if (state?.lock && lockBlocks(req.deployable, state.lock, req.user)) {
    await replyEphemeral(
      respond,
      ephemeral(`${lockNotice(req.deployable, state.lock)}\nNothing was started.`, { mrkdwn: true }),
    );
    return false;
  }
  let plan = prepared;
  try {
    plan ??= buildPlan(ctx.config, {
      deployable: req.deployable,
      release: req.release,
      requestedBy: req.user,
      ...(req.environment !== undefined ? { environment: req.environment } : {}),
    });
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    await replyEphemeral(respond, errorWithHelp(e.problems.join('; '), await startableDeployables(ctx, req.user)));
    return false;
  }
  // Deploy freezes, before anything is posted: a refused request leaves no root message behind.
  const verdict = await judgeFreeze(
    plan,
    ctx.now(),
    req.overrideFreeze !== undefined ? { by: req.user, reason: req.overrideFreeze } : undefined,
    () => ctx.directory.allows(req.user, d.freezeOverriders, ctx.config.raw.groups),
    d.freezeOverriders,
  );
  if (!verdict.ok) {
    await replyEphemeral(respond, `:snowflake: ${req.deployable} ${req.release} was not started: ${verdict.reason}`);
    return false;
  }
  if (verdict.override) plan.freezeOverride = verdict.override;
  const rolloutId = newRolloutId(plan);
  const pending: PendingRoot = { rolloutId, deployable: plan.deployable, release: plan.release, requestedBy: req.user };
  const root = requestedRoot(pending);
  let rootTs: string;
  try {
    const res = await web.chat.postMessage({
      channel,
      text: root.text,
      blocks: root.blocks,
      metadata: { event_type: 'rollout', event_payload: { rollout_id: rolloutId } },
    });
    rootTs = res.ts as string;
  } catch (e) {
    const err = (e as { data?: { error?: string } }).data?.error ?? (e as Error).message;
    await replyEphemeral(
      respond,
      `Could not post in this channel (${err}): invite the bot to the channel and try again. Nothing was started.`,
    );
    return false;
  }
  plan.slack = { channel, ts: rootTs, taskQueue: ctx.slackTaskQueue };
  let result;
  try {
    result = await enqueueRollout(ctx.client, ctx.taskQueue, plan, rolloutId, undefined, undefined, ctx.directory);
  } catch (e) {
    // A refusal by the queue (locked, the lifecycle, …) says why in its cause, not in the SDK's own message.
    const reason = refusalOf(e)?.reason ?? (e as Error).message;
    ctx.logger.warn({ rolloutId, user: req.user, reason }, 'rollout bot: rollout request not confirmed or refused');
    if (e instanceof NotConfirmedError) {
      // Not refused, just not confirmed: it may still start when a worker is back, so the root stays "requested".
      await replyEphemeral(respond, `${req.deployable} ${req.release}: ${reason}`);
      return false;
    }
    background(ctx, 'marking a root message as not started', () =>
      web.chat.update({ channel, ts: rootTs, ...notStartedRoot(pending, reason) }),
    );
    await replyEphemeral(respond, `${req.deployable} ${req.release} was not started: ${reason}`);
    return false;
  }
  ctx.logger.info(
    { rolloutId, deployable: plan.deployable, release: plan.release, user: req.user, position: result.position },
    'rollout bot: rollout requested',
  );
  if (channel !== req.channel) {
    await replyEphemeral(respond, `${req.deployable} ${req.release} (${req.environment}) is posted in <#${channel}>.`);
  }
  if (result.position > 0) {
    const q = queuedRoot(pending, result.position, result.runningRolloutId);
    // The root updater takes over once it runs; a queued rollout has no workflow yet.
    background(ctx, 'marking a root message as queued', () =>
      web.chat.update({ channel, ts: rootTs, text: q.text, blocks: q.blocks }),
    );
    await replyEphemeral(respond, queuedNotice(pending, result.position, result.runningRolloutId));
  }
  return true;
}

/**
 * `/rollout promote <deployable> <release>`: the environment after the last one of its lifecycle the release
 * succeeded in (by the deployable's release history), then the same request as `/rollout <d> <r> <env>`. The
 * queue checks the lifecycle again when it takes the request.
 */
export async function promoteRollout(
  ctx: BotContext,
  req: Omit<SlackRequest, 'environment' | 'overrideFreeze'>,
  respond: RespondFn,
  web: App['client'],
): Promise<boolean> {
  const d = ownValue(ctx.config.raw.deployables, req.deployable);
  if (!d) {
    await replyEphemeral(
      respond,
      errorWithHelp(`unknown deployable \`${req.deployable}\``, await startableDeployables(ctx, req.user)),
    );
    return false;
  }
  const history = await bounded(ctx, QUERY_TIMEOUT_MS, () =>
    getReleaseHistory(ctx.client, ctx.taskQueue, req.deployable),
  ).catch(() => null);
  if (history === null) {
    await replyEphemeral(
      respond,
      `Could not read the release history of ${req.deployable} (is a worker running?). Nothing was started.`,
    );
    return false;
  }
  const choice = choosePromotion(req.deployable, d.lifecycle, history?.releases ?? [], req.release);
  if (!choice.ok) {
    await replyEphemeral(respond, `${req.deployable} ${req.release} was not promoted: ${choice.reason}`);
    return false;
  }
  return requestRollout(ctx, { ...req, environment: choice.to }, respond, web);
}
