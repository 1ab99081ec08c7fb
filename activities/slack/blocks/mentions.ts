// Who a decision card is waiting for, as Slack mentions: a pending decision should notify someone. Slack user
// ids become `<@U…>` (that notifies them); other identities (`cli:alice`) are shown plainly. Approver groups are
// expanded to their members when the rollout starts, so members are mentioned, never a `<!subteam^…>` handle.
import { who } from './text';

/** Mentions shown on a card at most; the rest are counted. */
export const MENTION_LIMIT = 10;

/** `<@U1>, <@U2>, cli:ops +3 more`; empty when nobody is named. */
export function mentionList(identities: readonly string[], max = MENTION_LIMIT): string {
  const unique = [...new Set(identities)];
  const shown = unique.slice(0, max).map(who);
  const more = unique.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` +${more} more` : '');
}
