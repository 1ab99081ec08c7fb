// How many targets a window (a count or a percentage) allows, for a given number of targets.
import type { Window } from './plan';

/** A count (at most the targets), or a percentage rounded up; at least 1 whenever there is a target. */
export function windowSize(w: Window | undefined, targets: number): number {
  if (targets === 0) return 0;
  if (!w) return targets;
  if ('count' in w) return Math.max(1, Math.min(w.count, targets));
  return Math.max(1, Math.ceil((w.percent * targets) / 100));
}
