// Steering a rollout from Slack (`/rollout pause|resume|window`, the root's Pause / Resume buttons, and `pause`,
// `resume`, `window <n>` typed in its thread): the clicker is checked against the rollout's own approvers (read
// from Temporal, as for decisions), then the workflow Update is sent; the workflow checks again, records who and
// when, and tells the thread. The person who asked hears back only privately.
import { pauseRollout, resumeRollout, setRolloutWindow } from '../temporal/steering';
import type { BotContext } from './context';
import { replyDelivery, replyEphemeral, type Respond } from './replies';
import { rolloutPlan } from './rollouts';

export type SteerRequest = { kind: 'pause'; reason?: string } | { kind: 'resume' } | { kind: 'window'; window: number };

const VERB: Record<SteerRequest['kind'], string> = { pause: 'pause', resume: 'resume', window: 'change the window of' };

export async function steerFromSlack(
  ctx: BotContext,
  respond: Respond,
  user: string,
  rolloutId: string,
  req: SteerRequest,
): Promise<void> {
  const plan = await rolloutPlan(ctx.client, rolloutId);
  if (!plan) return void (await replyEphemeral(respond, `There is no rollout ${rolloutId} (see /rollout list).`));
  if (!(await ctx.directory.allows(user, plan.approvers, plan.groups))) {
    return void (await replyEphemeral(
      respond,
      `You may not ${VERB[req.kind]} ${rolloutId}: only the approvers of ${plan.deployable} may.`,
    ));
  }
  const title = `${plan.deployable} ${plan.release}`;
  const ms = ctx.deliveryTimeoutMs;
  switch (req.kind) {
    case 'pause':
      return replyDelivery(
        respond,
        await pauseRollout(ctx.client, rolloutId, user, req.reason, ms),
        () => `Paused ${title}: targets in flight finish their chains, nothing new starts until it is resumed.`,
      );
    case 'resume':
      return replyDelivery(
        respond,
        await resumeRollout(ctx.client, rolloutId, user, ms),
        (r) => `${title} ${r.message}.`,
      );
    case 'window':
      return replyDelivery(
        respond,
        await setRolloutWindow(ctx.client, rolloutId, req.window, user, ms),
        (r) => `${title}: ${r.message}.`,
      );
  }
}
