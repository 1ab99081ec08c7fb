// A click on Roll back to <release> (a finished rollout's root message, or the `/rollout rollback` prompt), after
// Slack's confirmation dialog: the rollback goes through the deployable's queue like any rollout.
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRolloutValue } from '../../../../activities/slack/blocks';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { rollBack } from '../../releases';
import { NOT_UNDERSTOOD, replyEphemeral } from '../../replies';

export type RollbackClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'> &
  Pick<AllMiddlewareArgs, 'client'>;

export function rollbackClicked(ctx: BotContext) {
  return async ({ ack, body, respond, client }: RollbackClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeRolloutValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    const channel = body.channel?.id;
    if (!channel) return void (await replyEphemeral(respond, 'Roll back from a channel the bot is in.'));
    await rollBack(
      ctx,
      { user, channel, deployable: v.deployable, rolloutId: v.rolloutId, release: v.release },
      respond,
      client,
    );
  };
}
