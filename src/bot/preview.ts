// `/rollout <deployable> <release> --plan`: the preview, ephemeral, with a Start button; and the Start click,
// which rebuilds the plan from the config as it is now and refuses when it is not the plan the preview showed.
// Start goes through requestRollout with the rebuilt plan: the same authorisation, lock and freeze checks.
import type { App, RespondFn } from '@slack/bolt';
import { ephemeral, previewMessage, type SlackMessage } from '../../activities/slack/blocks';
import { ownValue } from '../../domain/access';
import { buildPlan, RequestError } from '../config/plan';
import { planHash, planPreview } from '../config/preview';
import { getDeployableState } from '../temporal/client';
import { startableDeployables, type BotContext } from './context';
import { errorWithHelp } from './messages';
import { bounded } from './queries';
import { replyEphemeral } from './replies';
import { requestRollout } from './requests';

const LOCK_LOOKUP_MS = 1500;

export async function previewAnswer(
  ctx: BotContext,
  user: string,
  deployable: string,
  release: string,
): Promise<SlackMessage> {
  const d = ownValue(ctx.config.raw.deployables, deployable);
  if (!d) return errorWithHelp(`unknown deployable \`${deployable}\``, await startableDeployables(ctx, user));
  // The preview shows who may approve and what runs where: only to those who may start it.
  if (!(await ctx.directory.allows(user, d.starters, ctx.config.raw.groups)))
    return errorWithHelp(`you may not roll out ${deployable}`, await startableDeployables(ctx, user));
  let plan;
  try {
    plan = buildPlan(ctx.config, { deployable, release, requestedBy: user });
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    return errorWithHelp(e.problems.join('; '), await startableDeployables(ctx, user));
  }
  const state = await bounded(ctx, LOCK_LOOKUP_MS, () =>
    getDeployableState(ctx.client, ctx.taskQueue, deployable),
  ).catch(() => undefined);
  const preview = await planPreview(plan, {
    now: ctx.now(),
    directory: ctx.directory,
    ...(state?.lock ? { lock: state.lock } : {}),
  });
  return previewMessage(preview, planHash(plan));
}

/** Start from a preview: refused when the config now gives another plan than the one previewed. */
export async function startPreviewed(
  ctx: BotContext,
  req: { user: string; channel: string; deployable: string; release: string; hash: string },
  respond: RespondFn,
  web: App['client'],
): Promise<boolean> {
  let plan;
  try {
    plan = ownValue(ctx.config.raw.deployables, req.deployable)
      ? buildPlan(ctx.config, { deployable: req.deployable, release: req.release, requestedBy: req.user })
      : undefined;
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    plan = undefined;
  }
  if (plan && planHash(plan) !== req.hash) {
    await replyEphemeral(
      respond,
      ephemeral(
        `Not started: the config of ${req.deployable} changed since this preview (targets, steps, approvers, ` +
          `groups or freezes). Preview it again: \`/rollout ${req.deployable} ${req.release} --plan\``,
      ),
    );
    return false;
  }
  // An unknown deployable or a plan that no longer builds: requestRollout says why, as for any request.
  return requestRollout(
    ctx,
    { user: req.user, channel: req.channel, deployable: req.deployable, release: req.release },
    respond,
    web,
    plan,
  );
}
