// A click on the root message's Pause or Resume button: the button carries the rollout (encodeRolloutValue); the
// steering itself (who may, the workflow Update, the reply) is in bot/steering.ts.
import type { BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRolloutValue } from '../../../../activities/slack/blocks';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { NOT_UNDERSTOOD, replyEphemeral } from '../../replies';
import { steerFromSlack } from '../../steering';

export type SteerClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'>;

export function pauseClicked(ctx: BotContext) {
  return async ({ ack, body, respond }: SteerClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeRolloutValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    await steerFromSlack(ctx, respond, user, v.rolloutId, { kind: 'pause' });
  };
}

export function resumeClicked(ctx: BotContext) {
  return async ({ ack, body, respond }: SteerClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeRolloutValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    await steerFromSlack(ctx, respond, user, v.rolloutId, { kind: 'resume' });
  };
}
