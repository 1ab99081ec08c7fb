// Button clicks, by action id (activities/slack/blocks/ids.ts). Each callback acks at once, then does the work.
import type { App, BlockAction } from '@slack/bolt';
import {
  ACTION_CANCEL,
  ACTION_ROLLBACK,
  ACTION_PAUSE,
  ACTION_RESUME,
  ACTION_START_PREVIEWED,
  ACTION_WITHDRAW,
  DECISION_ACTION_IDS,
} from '../../../../activities/slack/blocks';
import type { BotContext } from '../../context';
import { cancelClicked } from './cancelClicked';
import { decisionClicked } from './decisionClicked';
import { rollbackClicked } from './rollbackClicked';
import { startPreviewedClicked } from './startPreviewedClicked';
import { pauseClicked, resumeClicked } from './steerClicked';
import { withdrawClicked } from './withdrawClicked';

export function registerActions(app: App, ctx: BotContext): void {
  for (const actionId of DECISION_ACTION_IDS) app.action<BlockAction>(actionId, decisionClicked(ctx));
  app.action<BlockAction>(ACTION_CANCEL, cancelClicked(ctx));
  app.action<BlockAction>(ACTION_WITHDRAW, withdrawClicked(ctx));
  app.action<BlockAction>(ACTION_ROLLBACK, rollbackClicked(ctx));
  app.action<BlockAction>(ACTION_PAUSE, pauseClicked(ctx));
  app.action<BlockAction>(ACTION_RESUME, resumeClicked(ctx));
  app.action<BlockAction>(ACTION_START_PREVIEWED, startPreviewedClicked(ctx));
}
