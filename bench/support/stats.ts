// Pure helpers the benchmarks share: order statistics, ideal wall times, a seeded generator.

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile (q in [0, 1]); NaN for an empty list. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  return { n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN };
}

/**
 * Zero-overhead wall time of a sliding window: `window` slots, targets taken in order, each holding a slot for
 * its duration; the next target starts the instant a slot frees.
 */
export function slidingIdeal(durations: number[], window: number): number {
  const slots = Array.from({ length: Math.min(window, durations.length) }, () => 0);
  let end = 0;
  for (const d of durations) {
    let k = 0;
    for (let i = 1; i < slots.length; i++) if (slots[i]! < slots[k]!) k = i;
    slots[k]! += d;
    end = Math.max(end, slots[k]!);
  }
  return end;
}

/** Zero-overhead wall time of batches of `window` (Ansible's `serial`): each batch waits for its slowest host. */
export function batchIdeal(durations: number[], window: number): number {
  let total = 0;
  for (let i = 0; i < durations.length; i += window) total += Math.max(...durations.slice(i, i + window));
  return total;
}

/** mulberry32: a tiny deterministic generator, so every tool gets the same per-target durations. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per-target durations in seconds (two decimals): uniform `1`, or skewed in [0.2, 3] from a fixed seed. */
export function durationsFor(kind: 'uniform' | 'skewed', n: number, seed = 13): number[] {
  if (kind === 'uniform') return Array.from({ length: n }, () => 1);
  const next = seeded(seed);
  return Array.from({ length: n }, () => Math.round((0.2 + next() * 2.8) * 100) / 100);
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
