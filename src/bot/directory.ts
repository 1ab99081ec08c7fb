// Who is who: expands `@group` entries of starters/approvers lists, through the config's static groups first and
// then Slack user groups (usergroups.list → usergroups.users.list). No cache that outlives a short TTL: the bot
// keeps no state of its own, and group membership changes in Slack take effect within a minute.
import type { WebClient } from '@slack/web-api';
import { expandList, type ApproverDirectory } from '../../activities/approvers';
import { mayAct, type GroupSpec } from '../../domain/access';

type Groups = Readonly<Record<string, GroupSpec>>;

export interface Directory extends ApproverDirectory {
  /** Every user id the list names (ids, `@group`s); unknown groups expand to nobody. */
  expand(list: readonly string[], groups: Groups): Promise<Set<string>>;
  /** The one rule (domain/access.ts mayAct): an empty list means anyone, a list resolving to nobody no one. */
  allows(user: string, list: readonly string[], groups: Groups): Promise<boolean>;
}

// Approver checks run on every click and usergroups.* are Tier 2 (about 20 calls a minute): a minute's cache keeps
// a busy channel inside that, and a change of membership in Slack still takes effect within a minute.
const TTL_MS = 60_000;

export function slackDirectory(web: WebClient, ttlMs = TTL_MS): Directory {
  const cache = new Map<string, { at: number; members: Promise<string[] | undefined> }>();

  async function lookup(handle: string): Promise<string[] | undefined> {
    let id: string | undefined;
    // A Slack user group id (S…) may be written directly: `@S0123ABC`.
    if (/^S[A-Z0-9]{2,}$/.test(handle)) id = handle;
    else {
      const res = await web.usergroups.list({});
      const groups = (res.usergroups ?? []) as Array<{ id?: string; handle?: string }>;
      id = groups.find((g) => g.handle === handle)?.id;
    }
    if (id === undefined) return undefined;
    try {
      const res = await web.usergroups.users.list({ usergroup: id });
      return (res.users ?? []) as string[];
    } catch (e) {
      if ((e as { data?: { error?: string } }).data?.error === 'no_such_subteam') return undefined;
      throw e;
    }
  }

  const groupMembers = (handle: string): Promise<string[] | undefined> => {
    const hit = cache.get(handle);
    if (hit && Date.now() - hit.at < ttlMs) return hit.members;
    const members = lookup(handle);
    cache.set(handle, { at: Date.now(), members });
    members.catch(() => cache.delete(handle));
    return members;
  };

  const expand = async (list: readonly string[], groups: Groups): Promise<Set<string>> =>
    (await expandList(list, groups, { groupMembers })).members;

  return {
    groupMembers,
    expand,
    async allows(user, list, groups) {
      if (list.length === 0) return true;
      return mayAct(user, list, await expand(list, groups));
    },
  };
}
