// How the bot answers the person who typed a command or clicked a button: an ephemeral message through the
// response URL, beside (never replacing) the message clicked. The one way to do it, so every reply looks the same.
import type { RespondArguments } from '@slack/bolt';
import { ephemeral, type SlackMessage } from '../../activities/slack/blocks';
import type { Delivery } from '../temporal/client';

/** Bolt's `respond` (a response URL), or anything that answers one person the same way (a thread's ephemeral). */
export type Respond = (message: RespondArguments) => Promise<unknown>;

/** Replies to `respond`'s user only; plain text is escaped and wrapped by `ephemeral`. */
export function replyEphemeral(respond: Respond, m: SlackMessage | string): Promise<unknown> {
  const message = typeof m === 'string' ? ephemeral(m) : m;
  return respond({ response_type: 'ephemeral', replace_original: false, text: message.text, blocks: message.blocks });
}

/** Said about a click whose value the bot cannot decode (a malformed or foreign button). */
export const NOT_UNDERSTOOD = 'This button is not one the rollout bot understands.';

/**
 * Tells the clicker how their answer fared: a refusal and a non-delivery always, an acceptance only when
 * `accepted` says what to tell (a decision's card is replaced by the workflow itself).
 */
export async function replyDelivery<T>(
  respond: Respond,
  r: Delivery<T>,
  accepted?: (result: T) => string,
): Promise<void> {
  if (r.outcome === 'rejected') await replyEphemeral(respond, `Not taken: ${r.reason}`);
  else if (r.outcome === 'undelivered') await replyEphemeral(respond, `Your answer was not confirmed yet: ${r.reason}`);
  else if (accepted) await replyEphemeral(respond, accepted(r.result));
}
