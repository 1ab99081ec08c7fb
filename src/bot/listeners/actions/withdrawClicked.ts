// A click on Withdraw (the queued notice's button): asks the deployable's queue to drop the rollout before it
// starts; when it did, the root message says so.
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRolloutValue } from '../../../../activities/slack/blocks';
import { withdrawRollout, type Delivery } from '../../../temporal/client';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { withdrawnRoot } from '../../messages';
import { NOT_UNDERSTOOD, replyDelivery, replyEphemeral } from '../../replies';

export type WithdrawClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'> & Pick<AllMiddlewareArgs, 'client'>;

export function withdrawClicked(ctx: BotContext) {
  return async ({ ack, body, respond, client }: WithdrawClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const rolloutId = decodeRolloutValue(value);
    if (!rolloutId) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    // The rollout id starts with its deployable's name; several names may match (`web`, `web-farm`).
    const candidates = Object.keys(ctx.config.raw.deployables)
      .filter((d) => rolloutId.startsWith(`rollout-${d}-`))
      .sort((a, b) => b.length - a.length);
    let last: Delivery<unknown> | undefined;
    for (const deployable of candidates) {
      last = await withdrawRollout(ctx.client, ctx.taskQueue, deployable, rolloutId, user, ctx.deliveryTimeoutMs);
      if (last.outcome === 'rejected' && / is not queued for /.test(last.reason) && deployable !== candidates.at(-1)) continue;
      if (last.outcome === 'accepted') {
        await markWithdrawn(ctx, client, body.channel?.id, rolloutId, deployable, user);
      }
      break;
    }
    if (!last) return void (await replyEphemeral(respond, `${rolloutId} is not a rollout of a deployable this bot knows.`));
    await replyDelivery(respond, last, () => `Withdrawn: ${rolloutId} will not start.`);
  };
}

/** Finds the root message of a queued rollout by its metadata and marks it withdrawn. */
async function markWithdrawn(
  ctx: BotContext,
  web: AllMiddlewareArgs['client'],
  channel: string | undefined,
  rolloutId: string,
  deployable: string,
  by: string,
): Promise<void> {
  if (!channel) return;
  try {
    const res = await web.conversations.history({ channel, limit: 200, include_all_metadata: true });
    const root = (res.messages ?? []).find(
      (m) => (m.metadata as { event_payload?: { rollout_id?: string } } | undefined)?.event_payload?.rollout_id === rolloutId,
    );
    if (!root?.ts) return;
    const release = rolloutId.slice(`rollout-${deployable}-`.length).replace(/-[0-9a-f]{8}$/, '');
    const m = withdrawnRoot({ rolloutId, deployable, release, requestedBy: by }, by);
    await web.chat.update({ channel, ts: root.ts, text: m.text, blocks: m.blocks });
  } catch (e) {
    ctx.logger.warn(`rollout bot: could not mark ${rolloutId} withdrawn in ${channel}: ${(e as Error).message}`);
  }
}
