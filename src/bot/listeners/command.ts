// `/rollout …`: ack at once, then parse (zod), authorise, post the root message and enqueue the rollout.
import type { App, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { BLOCK_STATUS_REPLY, ephemeral, help, nthBlockId, statusReply, type SlackMessage } from '../../../activities/slack/blocks';
import { checkRelease } from '../../../domain/variables';
import { progressLine, STATUS_EMOJI, statusLabel, titleMrkdwn } from '../../../activities/slack/blocks/summary';
import { fallback, name, packLines } from '../../../activities/slack/blocks/text';
import { buildPlan, RequestError } from '../../config/plan';
import { enqueueRollout, getDeployableState, getSummary, newRolloutId, NotConfirmedError } from '../../temporal/client';
import type { RolloutSummary } from '../../../workflows/messages';
import type { DeployableState } from '../../../workflows/queueMessages';
import { background, startableDeployables, type BotContext } from '../context';
import { cancelPrompt, errorWithHelp, listMessage, notStartedRoot, queuedNotice, queuedRoot, requestedRoot, type PendingRoot } from '../messages';
import { listRunningRollouts } from '../rollouts';

const word = z.string().min(1).max(200);
const commandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('help') }),
  z.object({ kind: z.literal('list') }),
  z.object({ kind: z.literal('status'), target: word.optional() }),
  z.object({ kind: z.literal('cancel'), rolloutId: word }),
  z.object({
    kind: z.literal('start'),
    deployable: word,
    release: z
      .string({ error: 'missing release: say which release to roll out' })
      .min(1, 'missing release: say which release to roll out')
      .superRefine((release, ctx) => {
        const problem = checkRelease(release);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }),
]);
export type RolloutCommand = z.output<typeof commandSchema>;

/** Parses the text after `/rollout`; returns the command or what is wrong with it. */
export function parseCommand(text: string): { ok: true; command: RolloutCommand } | { ok: false; error: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  let raw: Record<string, unknown>;
  const tooMany = (n: number) => (rest.length > n ? `unexpected \`${rest.slice(n).join(' ').slice(0, 100)}\`` : undefined);
  switch (first?.toLowerCase()) {
    case undefined:
    case 'help':
      raw = { kind: 'help' };
      break;
    case 'list':
      raw = { kind: 'list' };
      break;
    case 'status':
      raw = { kind: 'status', ...(rest[0] !== undefined ? { target: rest[0] } : {}) };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      break;
    case 'cancel':
      if (rest[0] === undefined) return { ok: false, error: 'missing rollout id: `/rollout cancel <id>`' };
      if (tooMany(1)) return { ok: false, error: tooMany(1)! };
      raw = { kind: 'cancel', rolloutId: rest[0] };
      break;
    default: {
      // A release never contains spaces: anything after it is an error, not part of it.
      const release = rest.length > 0 ? rest.join(' ') : undefined;
      raw = { kind: 'start', deployable: first, ...(release !== undefined ? { release } : {}) };
    }
  }
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
  return { ok: true, command: parsed.data };
}

const say = (respond: RespondFn, m: SlackMessage) =>
  respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks });

/** A query bounded in time (queries need a worker; never hang a listener on one). */
export function bounded<T>(ctx: BotContext, ms: number, fn: () => Promise<T>): Promise<T> {
  return ctx.client.withDeadline(Date.now() + ms, fn);
}

export function registerCommand(app: App, ctx: BotContext, command = '/rollout'): void {
  app.command(command, async ({ command: cmd, ack, respond, client }) => {
    await ack();
    const user = cmd.user_id;
    const parsed = parseCommand(cmd.text ?? '');
    if (!parsed.ok) {
      await say(respond, errorWithHelp(parsed.error, await startableDeployables(ctx, user)));
      return;
    }
    const c = parsed.command;
    try {
      switch (c.kind) {
        case 'help':
          await say(respond, help(await startableDeployables(ctx, user)));
          return;
        case 'list':
          await say(respond, listMessage(await deployableStates(ctx)));
          return;
        case 'status':
          await say(respond, await statusAnswer(ctx, c.target));
          return;
        case 'cancel': {
          const s = await bounded(ctx, 5000, () => getSummary(ctx.client, c.rolloutId)).catch(() => undefined);
          if (!s) return void (await say(respond, ephemeral(`No running rollout \`${c.rolloutId}\` (see /rollout list).`, { mrkdwn: false })));
          if (s.status !== 'running') return void (await say(respond, ephemeral(`${c.rolloutId} already ended (${s.status}).`)));
          await say(respond, cancelPrompt(s.rolloutId, `${s.deployable} ${s.release}`));
          return;
        }
        case 'start':
          await start(ctx, { user, channel: cmd.channel_id, deployable: c.deployable, release: c.release }, respond, client);
          return;
      }
    } catch (e) {
      ctx.logger.error(`rollout bot: /rollout ${cmd.text} failed: ${(e as Error).stack ?? String(e)}`);
      await say(respond, ephemeral(`Something went wrong: ${(e as Error).message}`)).catch(() => undefined);
    }
  });
}

async function start(
  ctx: BotContext,
  req: { user: string; channel: string; deployable: string; release: string },
  respond: RespondFn,
  web: App['client'],
): Promise<void> {
  const d = ctx.config.raw.deployables[req.deployable];
  if (!d) {
    await say(respond, errorWithHelp(`unknown deployable \`${req.deployable}\``, await startableDeployables(ctx, req.user)));
    return;
  }
  if (!(await ctx.directory.allows(req.user, d.starters, ctx.config.raw.groups))) {
    await say(respond, errorWithHelp(`you may not roll out ${req.deployable}`, await startableDeployables(ctx, req.user)));
    return;
  }
  let plan;
  try {
    plan = buildPlan(ctx.config, { deployable: req.deployable, release: req.release, requestedBy: req.user });
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    await say(respond, errorWithHelp(e.problems.join('; '), await startableDeployables(ctx, req.user)));
    return;
  }
  const rolloutId = newRolloutId(plan);
  const pending: PendingRoot = { rolloutId, deployable: plan.deployable, release: plan.release, requestedBy: req.user };
  const root = requestedRoot(pending);
  let rootTs: string;
  try {
    const res = await web.chat.postMessage({
      channel: req.channel,
      text: root.text,
      blocks: root.blocks,
      metadata: { event_type: 'rollout', event_payload: { rollout_id: rolloutId } },
    });
    rootTs = res.ts as string;
  } catch (e) {
    const err = (e as { data?: { error?: string } }).data?.error ?? (e as Error).message;
    await say(respond, ephemeral(`Could not post in this channel (${err}): invite the bot to the channel and try again. Nothing was started.`));
    return;
  }
  plan.slack = { channel: req.channel, ts: rootTs, taskQueue: ctx.slackTaskQueue };
  let result;
  try {
    result = await enqueueRollout(ctx.client, ctx.taskQueue, plan, rolloutId);
  } catch (e) {
    const reason = (e as Error).message;
    if (e instanceof NotConfirmedError) {
      // Not refused, just not confirmed: it may still start when a worker is back, so the root stays "requested".
      await say(respond, ephemeral(`${req.deployable} ${req.release}: ${reason}`));
      return;
    }
    background(ctx, 'marking a root message as not started', () =>
      web.chat.update({ channel: req.channel, ts: rootTs, ...notStartedRoot(pending, reason) }),
    );
    await say(respond, ephemeral(`${req.deployable} ${req.release} was not started: ${reason}`));
    return;
  }
  if (result.position > 0) {
    const q = queuedRoot(pending, result.position, result.runningRolloutId);
    // The root updater takes over once it runs; a queued rollout has no workflow yet.
    background(ctx, 'marking a root message as queued', () => web.chat.update({ channel: req.channel, ts: rootTs, text: q.text, blocks: q.blocks }));
    await say(respond, queuedNotice(pending, result.position, result.runningRolloutId));
  }
}

export async function deployableStates(ctx: BotContext): Promise<DeployableState[]> {
  const names = Object.keys(ctx.config.raw.deployables);
  const states = await Promise.all(
    names.map((n) => bounded(ctx, 5000, () => getDeployableState(ctx.client, ctx.taskQueue, n)).catch(() => undefined)),
  );
  return states.filter((s): s is DeployableState => s !== undefined);
}

async function statusAnswer(ctx: BotContext, target: string | undefined): Promise<SlackMessage> {
  const summaryOf = (id: string) => bounded(ctx, 5000, () => getSummary(ctx.client, id)).catch(() => undefined);
  if (target === undefined) {
    const ids = await listRunningRollouts(ctx.client, 20, ctx.taskQueue);
    if (ids.length === 0) return ephemeral('No rollout is running.');
    const summaries = (await Promise.all(ids.map(summaryOf))).filter((s): s is RolloutSummary => s !== undefined);
    if (summaries.length === 1) return statusReply(summaries[0]!, ctx.now());
    const lines = summaries.map((s) => `${STATUS_EMOJI[s.status]} ${titleMrkdwn(s)} — ${statusLabel(s).toLowerCase()}, ${progressLine(s)} · \`${name(s.rolloutId, 200)}\``);
    return {
      text: fallback(`${summaries.length} running rollouts`),
      blocks: packLines(lines, `${BLOCK_STATUS_REPLY}.list`, 5, (n) => `_+${n} more_`, nthBlockId),
    };
  }
  let id = target;
  if (ctx.config.raw.deployables[target]) {
    const st = await bounded(ctx, 5000, () => getDeployableState(ctx.client, ctx.taskQueue, target)).catch(() => undefined);
    const latest = st?.running?.rolloutId ?? st?.recent.at(-1)?.rolloutId;
    if (!latest) return ephemeral(`${target} has no rollout yet.`);
    id = latest;
  }
  const s = await summaryOf(id);
  return s ? statusReply(s, ctx.now()) : ephemeral(`No rollout \`${target}\` (or no worker to ask right now).`);
}
