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

export function createApproverActivities(deps: ApproverDeps) {
  return {
    async expandApprovers({ approvers, groups }: ExpandApproversInput): Promise<string[]> {
      const out = new Set<string>();
      for (const a of approvers) {
        if (!a.startsWith('@')) {
          out.add(a);
          continue;
        }
        const handle = a.slice(1);
        const members = groups[handle] ?? (await deps.directory?.groupMembers(handle));
        // An unknown group expands to nobody rather than to everybody.
        for (const m of members ?? []) out.add(m);
        if (!members) out.add(`unresolved-group:${handle}`);
      }
      return [...out];
    },
  };
}
