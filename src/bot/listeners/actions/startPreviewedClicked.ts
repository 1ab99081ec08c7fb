// A click on a plan preview's Start (after Slack's confirmation): starts the previewed plan, unless the config
// changed since (see ../../preview.ts).
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodePreviewValue } from '../../../../activities/slack/blocks';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { startPreviewed } from '../../preview';
import { NOT_UNDERSTOOD, replyEphemeral } from '../../replies';

export type StartPreviewedClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'> &
  Pick<AllMiddlewareArgs, 'client'>;

export function startPreviewedClicked(ctx: BotContext) {
  return async ({ ack, body, respond, client }: StartPreviewedClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodePreviewValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    const channel = body.channel?.id;
    if (!channel) return void (await replyEphemeral(respond, 'Start from a channel the bot is in.'));
    await startPreviewed(ctx, { user, channel, ...v }, respond, client);
  };
}
