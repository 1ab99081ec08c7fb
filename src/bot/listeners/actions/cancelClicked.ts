// A click on Cancel rollout (the root message's button, or the `/rollout cancel <id>` prompt): only the requester
// or an approver may; the cancel is a workflow Update, stopped under the stopping rule.
import type { BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRolloutValue } from '../../../../activities/slack/blocks';
import { cancelRollout } from '../../../temporal/client';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { NOT_UNDERSTOOD, replyDelivery, replyEphemeral } from '../../replies';
import { rolloutPlan } from '../../rollouts';

export type CancelClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'>;

export function cancelClicked(ctx: BotContext) {
  return async ({ ack, body, respond }: CancelClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeRolloutValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    const { rolloutId } = v;
    const plan = await rolloutPlan(ctx.client, rolloutId);
    if (!plan) return void (await replyEphemeral(respond, `There is no rollout ${rolloutId}.`));
    const may = user === plan.requestedBy || (await ctx.directory.allows(user, plan.approvers, plan.groups));
    if (!may)
      return void (await replyEphemeral(
        respond,
        `You may not cancel ${rolloutId}: only its requester or an approver may.`,
      ));
    const r = await cancelRollout(ctx.client, rolloutId, user, undefined, ctx.deliveryTimeoutMs);
    ctx.logger.info({ rolloutId, user, outcome: r.outcome }, 'rollout bot: cancel clicked');
    await replyDelivery(
      respond,
      r,
      () => `Cancelling ${plan.deployable} ${plan.release}: targets in flight finish, nothing new starts.`,
    );
  };
}
