// The one authorisation rule, used by the bot, the CLI and the workflows alike. A starters or approvers list
// names user ids and `@group`s; the caller expands it (activities/approvers.ts expandList) and asks `mayAct`.
//
// An EMPTY list means "no restriction" (documented: `starters: []` lets anyone start). A list that names
// someone restricts to exactly who it resolves to, so a list naming only groups that resolve to nobody (an
// empty group, a Slack group that is gone) lets nobody act: it never falls back to "anyone".

/** A group as the config declares it: its members, or a Slack user group (by handle or S… id). */
export type GroupSpec = readonly string[] | { readonly slack: string };

/** May `who` act for `list`, whose expansion is `members`? */
export function mayAct(
  who: string,
  list: readonly string[],
  members: ReadonlySet<string> | readonly string[],
): boolean {
  if (list.length === 0) return true;
  return members instanceof Set ? members.has(who) : (members as readonly string[]).includes(who);
}

/**
 * A name looked up in a record that came from the config or from a request: own properties only, so
 * `__proto__`, `constructor` or `toString` typed by a user never reach Object.prototype.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
