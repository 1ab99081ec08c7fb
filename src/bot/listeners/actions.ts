// Button clicks: ack at once, then check the clicker against the rollout's own approvers (read from Temporal,
// not from the bot) and deliver the answer as a workflow Update, bounded in time. The workflow replaces the card
// with the outcome; the clicker only hears from the bot when the answer was refused or not delivered.
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import {
  ACTION_CANCEL,
  ACTION_WITHDRAW,
  DECISION_ACTION_IDS,
  decodeButtonValue,
  decodeRolloutValue,
  ephemeral,
} from '../../../activities/slack/blocks';
import { MANUAL_CHOICES, type DecisionChoice } from '../../../domain/decisions';
import { cancelRollout, decide, withdrawRollout, type Delivery } from '../../temporal/client';
import type { BotContext } from '../context';
import { withdrawnRoot } from '../messages';
import { rolloutPlan } from '../rollouts';

const tell = (respond: RespondFn, text: string) => {
  const m = ephemeral(text);
  return respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks });
};

function undeliveredText(reason: string): string {
  return `Your answer was not confirmed yet: ${reason}`;
}

function clickOf(body: BlockAction): { user: string; value: unknown } {
  const action = body.actions[0] as ButtonAction | undefined;
  return { user: body.user.id, value: action?.value };
}

export function registerActions(app: App, ctx: BotContext): void {
  for (const actionId of DECISION_ACTION_IDS) {
    app.action<BlockAction>(actionId, async ({ ack, body, respond }) => {
      await ack();
      const { user, value } = clickOf(body);
      const v = decodeButtonValue(value);
      if (!v) return void (await tell(respond, 'This button is not one the rollout bot understands.'));
      await answer(ctx, respond, user, v.rolloutId, v.decisionId, v.choice);
    });
  }

  app.action<BlockAction>(ACTION_CANCEL, async ({ ack, body, respond }) => {
    await ack();
    const { user, value } = clickOf(body);
    const rolloutId = decodeRolloutValue(value);
    if (!rolloutId) return void (await tell(respond, 'This button is not one the rollout bot understands.'));
    const plan = await rolloutPlan(ctx.client, rolloutId);
    if (!plan) return void (await tell(respond, `There is no rollout ${rolloutId}.`));
    const may = user === plan.requestedBy || (await ctx.directory.allows(user, plan.approvers, plan.groups));
    if (!may) return void (await tell(respond, `You may not cancel ${rolloutId}: only its requester or an approver may.`));
    const r = await cancelRollout(ctx.client, rolloutId, user, undefined, ctx.deliveryTimeoutMs);
    await report(respond, r, () => `Cancelling ${plan.deployable} ${plan.release}: targets in flight finish, nothing new starts.`);
  });

  app.action<BlockAction>(ACTION_WITHDRAW, async ({ ack, body, respond, client }) => {
    await ack();
    const { user, value } = clickOf(body);
    const rolloutId = decodeRolloutValue(value);
    if (!rolloutId) return void (await tell(respond, 'This button is not one the rollout bot understands.'));
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
    if (!last) return void (await tell(respond, `${rolloutId} is not a rollout of a deployable this bot knows.`));
    await report(respond, last, () => `Withdrawn: ${rolloutId} will not start.`);
  });
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
  if (!plan) return void (await tell(respond, `There is no rollout ${rolloutId}; this card is stale.`));
  // The workflow checks exactly (per decision); the bot refuses the obvious cases without bothering it.
  const lists = [plan.approvers];
  if ((MANUAL_CHOICES as readonly string[]).includes(choice)) {
    const manual = plan.steps.filter((s) => s.type === 'manual' && s.approvers.length > 0);
    if (manual.length > 0) lists.splice(0, 1, ...manual.map((s) => (s.type === 'manual' ? s.approvers : [])));
  }
  let allowed = false;
  for (const list of lists) if (await ctx.directory.allows(user, list, plan.groups)) allowed = true;
  if (!allowed) {
    return void (await tell(respond, `You are not allowed to answer this decision of ${plan.deployable} ${plan.release}: ask one of its approvers.`));
  }
  const r = await decide(ctx.client, rolloutId, decisionId, choice, user, ctx.deliveryTimeoutMs);
  await report(respond, r);
}

async function report<T>(respond: RespondFn, r: Delivery<T>, accepted?: () => string): Promise<void> {
  if (r.outcome === 'rejected') await tell(respond, `Not taken: ${r.reason}`);
  else if (r.outcome === 'undelivered') await tell(respond, undeliveredText(r.reason));
  else if (accepted) await tell(respond, accepted());
}

/** Finds the root message of a queued rollout by its metadata and marks it withdrawn. */
async function markWithdrawn(
  ctx: BotContext,
  web: App['client'],
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
