// Ramped windows: how many targets each stage of a ramp starts. Pure, shared by the workflow (which runs the
// stages) and the config checks and messages (which describe them).
import type { RampPlan, Window } from './plan';
import { windowSize } from './window';

/**
 * The stage sizes that cover `targets` targets: each entry's size in turn, the last one repeated, the final stage
 * cut to what is left. `[1, 2, "50%"]` over 8 targets is 1, 2, 4, 1.
 */
export function rampStages(ramp: RampPlan, targets: number): number[] {
  const stages: number[] = [];
  let left = targets;
  for (let i = 0; left > 0; i++) {
    const w = ramp.windows[Math.min(i, ramp.windows.length - 1)] as Window;
    const size = Math.min(left, windowSize(w, targets));
    stages.push(size);
    left -= size;
  }
  return stages;
}

/** `1, 2, 50%` (how a ramp is written in config), for messages. */
export function describeRamp(ramp: RampPlan): string {
  return ramp.windows.map((w) => ('count' in w ? String(w.count) : `${w.percent}%`)).join(', ');
}
