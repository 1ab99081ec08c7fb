// A click on a decision card (Fail / Retry / Ignore / Exclude, Proceed / Abort): check the clicker against the
// rollout's own approvers (read from Temporal, not from the bot) and deliver the answer as a workflow Update. The
// workflow replaces the card with the outcome; the clicker only hears from the bot when it was refused or not
// delivered.
import type { BlockAction, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeButtonValue } from '../../../../activities/slack/blocks';
import { MANUAL_CHOICES, type DecisionChoice } from '../../../../domain/decisions';
import { decide } from '../../../temporal/client';
import { clickOf } from '../../clicks';
import type { BotContext } from '../../context';
import { NOT_UNDERSTOOD, replyDelivery, replyEphemeral } from '../../replies';
import { rolloutPlan } from '../../rollouts';

export type DecisionClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction>, 'ack' | 'body' | 'respond'>;

export function decisionClicked(ctx: BotContext) {
  return async ({ ack, body, respond }: DecisionClickArgs): Promise<void> => {
    await ack();
    const { user, value } = clickOf(body);
    const v = decodeButtonValue(value);
    if (!v) return void (await replyEphemeral(respond, NOT_UNDERSTOOD));
    await answer(ctx, respond, user, v.rolloutId, v.decisionId, v.choice);
  };
}

async function answer(
  ctx: BotContext,
  respond: RespondFn,
  user: string,
  rolloutId: string,
  decisionId: string,
  choice: DecisionChoice,
): Promise<void> {
  const plan = await rolloutPlan(ctx.client, rolloutId);
  if (!plan) return void (await replyEphemeral(respond, `There is no rollout ${rolloutId}; this card is stale.`));
  // The workflow checks exactly (per decision); the bot refuses the obvious cases without bothering it.
  const lists = [plan.approvers];
  if ((MANUAL_CHOICES as readonly string[]).includes(choice)) {
    const manual = plan.steps.filter((s) => s.type === 'manual' && s.approvers.length > 0);
    if (manual.length > 0) lists.splice(0, 1, ...manual.map((s) => (s.type === 'manual' ? s.approvers : [])));
    // A ramp's manual Proceed between stages is answered by the rollout's approvers.
    if (
      manual.length > 0 &&
      plan.steps.some((s) => (s.type === 'script' || s.type === 'rolling') && s.ramp?.between?.manual)
    )
      lists.push(plan.approvers);
  }
  let allowed = false;
  for (const list of lists) if (await ctx.directory.allows(user, list, plan.groups)) allowed = true;
  if (!allowed) {
    return void (await replyEphemeral(
      respond,
      `You are not allowed to answer this decision of ${plan.deployable} ${plan.release}: ask one of its approvers.`,
    ));
  }
  const r = await decide(ctx.client, rolloutId, decisionId, choice, user, ctx.deliveryTimeoutMs);
  ctx.logger.info(
    {
      rolloutId,
      decisionId,
      choice,
      user,
      outcome: r.outcome,
      ...(r.outcome !== 'accepted' ? { reason: r.reason } : {}),
    },
    'rollout bot: decision clicked',
  );
  await replyDelivery(respond, r);
}
