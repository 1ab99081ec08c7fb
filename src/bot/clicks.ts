// What a button click carries: who clicked, and the value of the button (decoded by the listener that owns it).
import type { BlockAction, ButtonAction } from '@slack/bolt';

export function clickOf(body: BlockAction): { user: string; value: unknown } {
  const action = body.actions[0] as ButtonAction | undefined;
  return { user: body.user.id, value: action?.value };
}
