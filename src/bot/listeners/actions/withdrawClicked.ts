// A click on Withdraw (the queued notice's button): asks the deployable's queue, named by the button, to drop the
// rollout before it starts; when it did, the root message says so.
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRolloutValue, type RolloutButtonValue } from '../../../../activities/slack/blocks';
import { ownValue } from '../../../../domain/access';
import { withdrawRollout } from '../../../temporal/client';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { withdrawnRoot } from '../../messages';
import { NOT_UNDERSTOOD, replyDelivery, replyEphemeral } from '../../replies';

export type WithdrawClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'> &
  Pick<AllMiddlewareArgs, 'client'>;

export function withdrawClicked(ctx: BotContext) {
  return async ({ ack, body, respond, client }: WithdrawClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeRolloutValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    if (!ownValue(ctx.config.raw.deployables, v.deployable)) {
      return void (await replyEphemeral(respond, `${v.rolloutId} is not a rollout of a deployable this bot knows.`));
    }
    const r = await withdrawRollout(ctx.client, ctx.taskQueue, v.deployable, v.rolloutId, user, ctx.deliveryTimeoutMs);
    ctx.logger.info({ rolloutId: v.rolloutId, user, outcome: r.outcome }, 'rollout bot: withdraw clicked');
    if (r.outcome === 'accepted') await markWithdrawn(ctx, client, body.channel?.id, v, user);
    await replyDelivery(respond, r, () => `Withdrawn: ${v.rolloutId} will not start.`);
  };
}

/** Finds the root message of a queued rollout by its metadata and marks it withdrawn. */
async function markWithdrawn(
  ctx: BotContext,
  web: AllMiddlewareArgs['client'],
  channel: string | undefined,
  v: RolloutButtonValue,
  by: string,
): Promise<void> {
  if (!channel) return;
  try {
    // A Withdraw comes while the rollout waits in the queue, so its root is among the channel's latest messages.
    const res = await web.conversations.history({ channel, limit: 200, include_all_metadata: true });
    const root = (res.messages ?? []).find(
      (m) =>
        (m.metadata as { event_payload?: { rollout_id?: string } } | undefined)?.event_payload?.rollout_id ===
        v.rolloutId,
    );
    if (!root?.ts) return;
    const m = withdrawnRoot(
      { rolloutId: v.rolloutId, deployable: v.deployable, release: v.release, requestedBy: by },
      by,
    );
    await web.chat.update({ channel, ts: root.ts, text: m.text, blocks: m.blocks });
  } catch (e) {
    ctx.logger.warn(
      { rolloutId: v.rolloutId },
      `rollout bot: could not mark ${v.rolloutId} withdrawn in ${channel}: ${(e as Error).message}`,
    );
  }
}
