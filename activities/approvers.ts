// Resolves who may answer a rollout's decisions: `@group` entries are expanded through the config's static
// groups and, when a directory is injected (the Slack notifier), through Slack user groups.

export interface ApproverDirectory {
  /** Members of a user group by its handle (without @), or undefined when the group is unknown. */
  groupMembers(handle: string): Promise<string[] | undefined>;
}

export interface ApproverDeps {
  directory?: ApproverDirectory;
}

export interface ExpandApproversInput {
  approvers: string[];
  groups: Record<string, string[]>;
}

export interface ExpandedList {
  /** Every user id the list names, its groups' members included. */
  members: Set<string>;
  /** Handles of `@group`s neither the config nor the directory knows. */
  unresolved: string[];
}

/**
 * The one expansion rule, for the workflow's approvers (through this activity) and the bot's checks alike:
 * plain entries are user ids; `@handle` is a group, looked up in the config's static groups first, then in the
 * directory. An unknown group expands to nobody, never to everybody.
 */
export async function expandList(
  list: readonly string[],
  groups: Record<string, string[]>,
  directory: ApproverDirectory | undefined,
): Promise<ExpandedList> {
  const members = new Set<string>();
  const unresolved: string[] = [];
  for (const entry of list) {
    if (!entry.startsWith('@')) {
      members.add(entry);
      continue;
    }
    const handle = entry.slice(1);
    const found = groups[handle] ?? (await directory?.groupMembers(handle));
    for (const m of found ?? []) members.add(m);
    if (!found) unresolved.push(handle);
  }
  return { members, unresolved };
}

export function createApproverActivities(deps: ApproverDeps) {
  return {
    async expandApprovers({ approvers, groups }: ExpandApproversInput): Promise<string[]> {
      const { members, unresolved } = await expandList(approvers, groups, deps.directory);
      // The workflow reads an empty set as "anyone": a placeholder per unknown group keeps the set non-empty,
      // so a list naming only unknown groups lets nobody answer.
      return [...members, ...unresolved.map((handle) => `unresolved-group:${handle}`)];
    },
  };
}
