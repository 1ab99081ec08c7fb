// Deploy freezes: absolute time windows in which a deployable's rollouts are refused and a running one holds.
// Pure functions of a time, so the bot and the CLI (wall clock, at request time) and the rollout workflow
// (workflow time, deterministic) judge a freeze the same way.
import type { FreezePlan } from './plan';

const ms = (iso: string) => Date.parse(iso);

/** The freeze in force at `at` (epoch ms) that is not overridden; the one ending last when several overlap. */
export function freezeInForce(
  freezes: readonly FreezePlan[] | undefined,
  at: number,
  overridden: readonly string[] = [],
): FreezePlan | undefined {
  let found: FreezePlan | undefined;
  for (const f of freezes ?? []) {
    if (overridden.includes(f.name)) continue;
    if (ms(f.from) <= at && at < ms(f.until) && (!found || ms(f.until) > ms(found.until))) found = f;
  }
  return found;
}

/** Every freeze in force at `at` (overridden or not): what an override has to cover. */
export function freezesInForce(freezes: readonly FreezePlan[] | undefined, at: number): FreezePlan[] {
  return (freezes ?? []).filter((f) => ms(f.from) <= at && at < ms(f.until));
}

/** When the next freeze (not overridden) begins after `at`, in epoch ms; undefined when none is ahead. */
export function nextFreezeStart(
  freezes: readonly FreezePlan[] | undefined,
  at: number,
  overridden: readonly string[] = [],
): number | undefined {
  let next: number | undefined;
  for (const f of freezes ?? []) {
    if (overridden.includes(f.name)) continue;
    const from = ms(f.from);
    if (from > at && (next === undefined || from < next)) next = from;
  }
  return next;
}

/**
 * When a hold that began at `at` ends: the end of the freeze in force, extended by every freeze that overlaps
 * or touches it (a rollout does not resume for an instant between two back-to-back freezes).
 */
export function freezeEnd(freezes: readonly FreezePlan[] | undefined, at: number, overridden: readonly string[] = []) {
  let end = at;
  for (let f = freezeInForce(freezes, end, overridden); f; f = freezeInForce(freezes, end, overridden))
    end = ms(f.until);
  return end;
}

/** `2026-01-05 00:00 UTC`: how a freeze's end is written in refusals and the thread. */
export function utcMinute(iso: string | number): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  const secs = d.getUTCSeconds() !== 0 ? `:${p(d.getUTCSeconds())}` : '';
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}${secs} UTC`;
}

/** The sentence a refused request gets: which freeze, why, and until when. */
export function freezeRefusal(deployable: string, f: FreezePlan, until: number): string {
  return `${deployable} is frozen until ${utcMinute(until)} (${f.name}: ${f.reason})`;
}
