// The answers to `/rollout history`, `rollback`, `lock` and `unlock`, and the rollback a Roll back button asks
// for. Rolling back and locking need the same permission as starting (the deployable's `starters`); unlocking is
// the holder's (the workflow checks). Every refusal the workflow gives is typed; a lock refusal is shown with the
// current holder, read from the workflow.
import { ownValue } from '../../domain/access';
import type { App, RespondFn } from '@slack/bolt';
import {
  ephemeral,
  historyMessage,
  lockNotice,
  rollbackPrompt,
  type SlackMessage,
} from '../../activities/slack/blocks';
import { who } from '../../activities/slack/blocks/text';
import { REFUSAL } from '../../domain/failures';
import type { DeployableLock } from '../../domain/locks';
import { getDeployableState, type Delivery } from '../temporal/client';
import { getReleaseHistory, lockDeployable, unlockDeployable } from '../temporal/deployables';
import { prepareRollback } from '../temporal/rollback';
import type { BotContext } from './context';
import { bounded, QUERY_TIMEOUT_MS } from './queries';
import { replyEphemeral } from './replies';
import { requestRollout } from './requests';

const mrkdwn = (text: string) => ephemeral(text, { mrkdwn: true });

/** Why `user` may not act on `deployable` as a starter, or undefined when they may. */
async function starterProblem(
  ctx: BotContext,
  user: string,
  deployable: string,
  what: string,
): Promise<string | undefined> {
  const d = ownValue(ctx.config.raw.deployables, deployable);
  if (!d) return `Unknown deployable \`${deployable}\` (see \`/rollout help\`).`;
  const may = await ctx.directory.allows(user, d.starters, ctx.config.raw.groups).catch(() => false);
  return may ? undefined : `You may not ${what} ${deployable}: only those who may roll it out may.`;
}

export async function historyAnswer(ctx: BotContext, deployable: string): Promise<SlackMessage | string> {
  if (!ownValue(ctx.config.raw.deployables, deployable))
    return `Unknown deployable \`${deployable}\` (see \`/rollout help\`).`;
  const h = await bounded(ctx, QUERY_TIMEOUT_MS, () => getReleaseHistory(ctx.client, ctx.taskQueue, deployable));
  return historyMessage(deployable, h);
}

/** `/rollout rollback <deployable>`: what it would do, behind a confirmed button (the button does it). */
export async function rollbackAnswer(
  ctx: BotContext,
  user: string,
  deployable: string,
): Promise<SlackMessage | string> {
  const problem = await starterProblem(ctx, user, deployable, 'roll back');
  if (problem) return problem;
  const p = await prepareRollback(ctx.client, ctx.taskQueue, ctx.config, { deployable, requestedBy: user });
  if (!p.ok) return `Nothing to roll back: ${p.reason}.`;
  return rollbackPrompt(
    { ...p.choice.current, deployable },
    p.plan.release,
    p.choice.partial ? p.plan.targets.map((t) => t.name) : undefined,
  );
}

/** A lock update's outcome in words; a refusal because someone holds the lock names them as the workflow has it. */
async function lockOutcome(
  ctx: BotContext,
  deployable: string,
  r: Delivery<DeployableLock>,
  accepted: (l: DeployableLock) => string,
): Promise<SlackMessage> {
  if (r.outcome === 'accepted') return mrkdwn(accepted(r.result));
  if (r.outcome === 'undelivered') return ephemeral(`Not confirmed yet: ${r.reason}`);
  if (r.type === REFUSAL.locked) {
    const state = await getDeployableState(ctx.client, ctx.taskQueue, deployable).catch(() => undefined);
    if (state?.lock) return mrkdwn(`Not taken: ${lockNotice(deployable, state.lock)}`);
  }
  return ephemeral(`Not taken: ${r.reason}`);
}

export async function lockAnswer(
  ctx: BotContext,
  user: string,
  c: { deployable: string; reason: string; takeOver: boolean },
): Promise<SlackMessage | string> {
  const problem = await starterProblem(ctx, user, c.deployable, 'lock');
  if (problem) return problem;
  const r = await lockDeployable(
    ctx.client,
    ctx.taskQueue,
    c.deployable,
    { by: user, reason: c.reason, ...(c.takeOver ? { takeOver: true } : {}) },
    ctx.deliveryTimeoutMs,
  );
  return lockOutcome(ctx, c.deployable, r, (l) => {
    const taken = l.takenFrom ? `\nTaken over from ${who(l.takenFrom.holder)} (recorded).` : '';
    return `${lockNotice(c.deployable, l)}${taken}\nNobody else can roll it out until you \`/rollout unlock ${c.deployable}\`.`;
  });
}

export async function unlockAnswer(ctx: BotContext, user: string, deployable: string): Promise<SlackMessage | string> {
  if (!ownValue(ctx.config.raw.deployables, deployable))
    return `Unknown deployable \`${deployable}\` (see \`/rollout help\`).`;
  const r = await unlockDeployable(ctx.client, ctx.taskQueue, deployable, user, ctx.deliveryTimeoutMs);
  return lockOutcome(ctx, deployable, r, () => `:unlock: *${deployable}* is unlocked.`);
}

/**
 * A Roll back button was clicked (on a final root message or a rollback prompt): roll back `rolloutId` to
 * `release` through the deployable's queue, posted as a rollout of its own in `channel`. Refused when the button
 * is stale (a later release came, or the history changed what it would restore).
 */
export async function rollBack(
  ctx: BotContext,
  click: { user: string; channel: string; deployable: string; rolloutId: string; release: string },
  respond: RespondFn,
  web: App['client'],
): Promise<void> {
  const { user, deployable } = click;
  const problem = await starterProblem(ctx, user, deployable, 'roll back');
  if (problem) return void (await replyEphemeral(respond, problem));
  const p = await prepareRollback(ctx.client, ctx.taskQueue, ctx.config, {
    deployable,
    requestedBy: user,
    of: click.rolloutId,
  });
  if (!p.ok) return void (await replyEphemeral(respond, `Not rolled back: ${p.reason}.`));
  if (p.plan.release !== click.release) {
    return void (await replyEphemeral(
      respond,
      `Not rolled back: this button restores ${click.release}, but the history now says ${p.plan.release}; ask again with /rollout rollback ${deployable}.`,
    ));
  }
  const queued = await requestRollout(
    ctx,
    { user, channel: click.channel, deployable, release: p.plan.release },
    respond,
    web,
    p.plan,
  );
  if (queued) {
    const where = p.choice.partial
      ? `on ${p.plan.targets.map((t) => t.name).join(', ')} (the targets ${p.choice.current.release} reached, last first)`
      : 'on every target';
    await replyEphemeral(
      respond,
      `Rolling ${deployable} back from ${p.choice.current.release} to ${p.plan.release} ${where}.`,
    );
  }
}
