// The freeze rule at request time (the bot's and the CLI's start path, wall clock): a rollout requested while a
// freeze is in force is refused, saying until when, unless one of the deployable's freezeOverriders gives a
// reason; the override then travels in the plan and is recorded by the rollout. Who counts as an overrider is
// the caller's to say (the bot expands Slack user groups, the CLI the config's static groups).
import { freezeEnd, freezeRefusal, freezesInForce } from '../../domain/freezes';
import type { FreezeOverride, RolloutPlan } from '../../domain/plan';

export interface FreezeOverrideRequest {
  by: string;
  reason: string;
}

export type FreezeVerdict = { ok: true; override?: FreezeOverride } | { ok: false; reason: string };

/**
 * Judges a request against the plan's freezes at `at`. `mayOverride` answers whether the requester is one of
 * the deployable's freezeOverriders; it is asked only when an override is requested during a freeze.
 */
export async function judgeFreeze(
  plan: RolloutPlan,
  at: Date,
  override: FreezeOverrideRequest | undefined,
  mayOverride: () => Promise<boolean> | boolean,
  overriders: readonly string[],
): Promise<FreezeVerdict> {
  const now = at.getTime();
  const inForce = freezesInForce(plan.freezes, now);
  if (inForce.length === 0) return { ok: true };
  const f = inForce[0]!;
  const frozen = freezeRefusal(plan.deployable, f, freezeEnd(plan.freezes, now));
  if (!override) {
    const how =
      overriders.length > 0
        ? `; ${overriders.join(', ')} may override it with a reason`
        : '; nobody may override it (the deployable names no freezeOverriders)';
    return { ok: false, reason: `${frozen}${how}` };
  }
  if (!override.reason.trim()) return { ok: false, reason: `${frozen}; an override needs a reason` };
  // An empty freezeOverriders means nobody (unlike starters and approvers, where empty means anyone).
  if (overriders.length === 0 || !(await mayOverride())) {
    return {
      ok: false,
      reason: `${frozen}; ${override.by} may not override it (freezeOverriders: ${overriders.join(', ') || 'none'})`,
    };
  }
  return {
    ok: true,
    override: {
      by: override.by,
      reason: override.reason.trim().slice(0, 500),
      at: at.toISOString(),
      freezes: inForce.map((x) => x.name),
    },
  };
}
