// `/rollout …`: ack at once, then parse, and answer (help, list, status, a cancel prompt, history, a rollback
// prompt, lock, unlock), steer a running rollout (pause, resume, window) or request a rollout.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { help } from '../../../../activities/slack/blocks';
import { getSummary } from '../../../temporal/client';
import { parseCommand } from '../../commandParser';
import { startableDeployables, type BotContext } from '../../context';
import { cancelPrompt, errorWithHelp, listMessage } from '../../messages';
import { bounded, deployableStates, QUERY_TIMEOUT_MS } from '../../queries';
import { historyAnswer, lockAnswer, rollbackAnswer, unlockAnswer } from '../../releases';
import { replyEphemeral } from '../../replies';
import { previewAnswer } from '../../preview';
import { promoteRollout, requestRollout } from '../../requests';
import { statusAnswer } from '../../status';
import { steerFromSlack } from '../../steering';

export type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> &
  Pick<AllMiddlewareArgs, 'client'>;

export function rolloutCommand(ctx: BotContext) {
  return async ({ command: cmd, ack, respond, client }: CommandArgs): Promise<void> => {
    await ack();
    const user = cmd.user_id;
    const parsed = parseCommand(cmd.text ?? '');
    if (!parsed.ok) {
      await replyEphemeral(respond, errorWithHelp(parsed.error, await startableDeployables(ctx, user)));
      return;
    }
    const c = parsed.command;
    try {
      switch (c.kind) {
        case 'help':
          await replyEphemeral(respond, help(await startableDeployables(ctx, user)));
          return;
        case 'list':
          await replyEphemeral(respond, listMessage(await deployableStates(ctx)));
          return;
        case 'status':
          await replyEphemeral(respond, await statusAnswer(ctx, c.target));
          return;
        case 'cancel': {
          const s = await bounded(ctx, QUERY_TIMEOUT_MS, () => getSummary(ctx.client, c.rolloutId)).catch(
            () => undefined,
          );
          if (!s)
            return void (await replyEphemeral(respond, `No running rollout \`${c.rolloutId}\` (see /rollout list).`));
          if (s.status !== 'running')
            return void (await replyEphemeral(respond, `${c.rolloutId} already ended (${s.status}).`));
          await replyEphemeral(respond, cancelPrompt(s));
          return;
        }
        case 'history':
          await replyEphemeral(respond, await historyAnswer(ctx, c.deployable));
          return;
        case 'rollback':
          await replyEphemeral(respond, await rollbackAnswer(ctx, user, c.deployable));
          return;
        case 'lock':
          await replyEphemeral(respond, await lockAnswer(ctx, user, c));
          return;
        case 'unlock':
          await replyEphemeral(respond, await unlockAnswer(ctx, user, c.deployable));
          return;
        case 'pause':
          await steerFromSlack(ctx, respond, user, c.rolloutId, {
            kind: 'pause',
            ...(c.reason !== undefined ? { reason: c.reason } : {}),
          });
          return;
        case 'resume':
          await steerFromSlack(ctx, respond, user, c.rolloutId, { kind: 'resume' });
          return;
        case 'window':
          await steerFromSlack(ctx, respond, user, c.rolloutId, { kind: 'window', window: c.window });
          return;
        case 'promote':
          await promoteRollout(
            ctx,
            { user, channel: cmd.channel_id, deployable: c.deployable, release: c.release },
            respond,
            client,
          );
          return;
        case 'start':
          if (c.plan) {
            await replyEphemeral(respond, await previewAnswer(ctx, user, c.deployable, c.release));
            return;
          }
          await requestRollout(
            ctx,
            {
              user,
              channel: cmd.channel_id,
              deployable: c.deployable,
              release: c.release,
              ...(c.overrideFreeze !== undefined ? { overrideFreeze: c.overrideFreeze } : {}),
              ...(c.environment !== undefined ? { environment: c.environment } : {}),
            },
            respond,
            client,
          );
          return;
      }
    } catch (e) {
      ctx.logger.error(`rollout bot: /rollout ${cmd.text} failed: ${(e as Error).stack ?? String(e)}`);
      await replyEphemeral(respond, `Something went wrong: ${(e as Error).message}`).catch(() => undefined);
    }
  };
}
