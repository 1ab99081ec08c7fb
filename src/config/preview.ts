// The plan preview for the bot and the CLI: expands the approver lists (the one rule, with the bot's Slack
// directory when there is one), previews the plan (domain/preview.ts), and fingerprints what the preview was
// built from so a later Start can refuse when the config changed in between.
import { createHash } from 'node:crypto';
import { expandList, type ApproverDirectory } from '../../activities/approvers';
import type { DeployableLock } from '../../domain/locks';
import type { RolloutPlan } from '../../domain/plan';
import { listKey, manualApprovers, previewPlan, type PlanPreview } from '../../domain/preview';
export { previewText } from '../../domain/previewText';

export async function planPreview(
  plan: RolloutPlan,
  opts: { now: Date; lock?: DeployableLock; directory?: ApproverDirectory },
): Promise<PlanPreview> {
  const expanded = new Map<string, { members: string[]; unresolved: string[] }>();
  for (const step of plan.steps) {
    if (step.type !== 'manual') continue;
    const list = manualApprovers(plan, step);
    if (expanded.has(listKey(list))) continue;
    const e = await expandList(list, plan.groups, opts.directory);
    expanded.set(listKey(list), { members: [...e.members], unresolved: e.unresolved });
  }
  return previewPlan(plan, { now: opts.now.getTime(), expanded, ...(opts.lock ? { lock: opts.lock } : {}) });
}

/**
 * A fingerprint of everything a rollout of this plan would capture from the config: its targets (with their
 * variables and transport), steps, windows, approvers, groups, variables and freezes. The request's own facts
 * (who, the Slack root) are left out: the same request on the same config gives the same hash. 16 hex digits.
 */
export function planHash(plan: RolloutPlan): string {
  const { requestedBy: _by, slack: _slack, freezeOverride: _override, ...fromConfig } = plan;
  return createHash('sha256').update(JSON.stringify(fromConfig)).digest('hex').slice(0, 16);
}
