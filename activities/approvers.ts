// Resolves who may act on a rollout: `@group` entries are expanded through the config's declared groups (member
// lists, or Slack user groups when a directory is injected: the bot's). The rule that reads the expansion is
// domain/access.ts mayAct.
import { ownValue, type GroupSpec } from '../domain/access';

export interface ApproverDirectory {
  /** Members of a Slack user group by its handle or S… id (without @), or undefined when Slack does not know it. */
  groupMembers(handle: string): Promise<string[] | undefined>;
}

export interface ApproverDeps {
  directory?: ApproverDirectory;
}

export interface ExpandApproversInput {
  approvers: string[];
  groups: Record<string, GroupSpec>;
}

export interface ExpandedList {
  /** Every user id the list names, its groups' members included. */
  members: Set<string>;
  /** Names of `@group`s that could not be resolved: undeclared, or a Slack group with no directory to ask. */
  unresolved: string[];
}

/**
 * The one expansion rule, for the workflows (through this activity), the bot and the CLI alike: plain entries
 * are user ids; `@name` is a group the config declares under `groups:` (own keys only), either a member list or
 * `{ slack: handle }`, which only a directory (the bot's) can expand. A group that is not declared, or cannot be
 * expanded here, expands to nobody, never to everybody.
 */
export async function expandList(
  list: readonly string[],
  groups: Readonly<Record<string, GroupSpec>>,
  directory: ApproverDirectory | undefined,
): Promise<ExpandedList> {
  const members = new Set<string>();
  const unresolved: string[] = [];
  for (const entry of list) {
    if (!entry.startsWith('@')) {
      members.add(entry);
      continue;
    }
    const groupName = entry.slice(1);
    const spec = ownValue(groups, groupName);
    let found: readonly string[] | undefined;
    if (Array.isArray(spec)) found = spec;
    else if (spec && typeof spec === 'object' && 'slack' in spec) found = await directory?.groupMembers(spec.slack);
    for (const m of found ?? []) members.add(m);
    if (!found) unresolved.push(groupName);
  }
  return { members, unresolved };
}

/** Placeholder members that match no user: they keep a restricted list that resolves to nobody non-empty. */
const NOBODY = 'nobody:';

export function createApproverActivities(deps: ApproverDeps) {
  return {
    async expandApprovers({ approvers, groups }: ExpandApproversInput): Promise<string[]> {
      const { members, unresolved } = await expandList(approvers, groups, deps.directory);
      // The workflow applies mayAct (an empty LIST is no restriction, an empty expansion is nobody). Workflows
      // recorded before that rule read an empty SET as "anyone": the placeholders keep a restricted list that
      // resolves to nobody from reading as unrestricted there too.
      const out = [...members, ...unresolved.map((g) => `${NOBODY}unresolved-group:${g}`)];
      if (approvers.length > 0 && out.length === 0) out.push(`${NOBODY}empty-list`);
      return out;
    },
  };
}
