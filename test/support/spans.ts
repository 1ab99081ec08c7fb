// Time spans written on the targets by their scripts (`start <name> <epoch>` … `end <name> <epoch>` in a timeline
// file), and what they prove: how many targets were in flight when each one started, and which started when.
import type { TargetPlan } from '../../domain/plan';
import { timeline } from './rollouts';

export interface Span {
  target: string;
  start: number;
  end: number;
}

/** Every target's span, in the order they started; fails the caller when a target has none. */
export function spansOf(targets: TargetPlan[]): Span[] {
  const spans = targets.map((t) => {
    const { start, end } = timeline(t);
    if (start === undefined || end === undefined) throw new Error(`${t.name} has no complete span in its timeline`);
    return { target: t.name, start, end };
  });
  return spans.sort((a, b) => a.start - b.start);
}

/** How many spans were in flight the moment `s` started (itself included). */
export function inFlightAt(spans: Span[], s: Span): number {
  return spans.filter((o) => o.start <= s.start && o.end > s.start).length;
}

/** The largest in-flight count at any start among `group` (all spans count as possibly overlapping). */
export function maxInFlight(spans: Span[], group: Span[] = spans): number {
  return Math.max(0, ...group.map((s) => inFlightAt(spans, s)));
}

/** Spans that started in (from, to), epoch seconds. */
export function startedBetween(spans: Span[], from: number, to: number): Span[] {
  return spans.filter((s) => s.start > from && s.start < to);
}
