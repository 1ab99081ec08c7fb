// Target pages (`rollout status --target`, a page of targets): the one pure function that computes them, called by
// the rollout's `targets` query (state.ts) and by the client for a finished rollout (src/temporal/client.ts), which
// answers from the rollout's recorded result instead of a query (a closed workflow's query replays its whole
// history: seconds at 1,000 targets). The result carries what a page reads, packed losslessly (`pages`), so both
// sides give the same answer. No commands, no I/O: safe in the workflow and on the client.
import { keepTail, TAIL_LIMITS } from '../../domain/text';
import {
  DETAIL_PAGE_LIMIT,
  type TargetDetail,
  type TargetsPage,
  type TargetsQueryInput,
  type TargetState,
  type TargetStepDetail,
} from '../messages';
import { commonPrefix, packStepRecords, stepRecordsReader, type PackedStepRecords, type StepNames } from './compact';

export type TargetOutputs = Record<string, Record<string, string>>;

/** What a target page reads of a rollout. */
export interface TargetsView {
  /** Every target, in the rollout's order (the plan's, then those provisioned during it). */
  readonly targets: ReadonlyArray<{ readonly name: string }>;
  /** Per step: its record of each target it reached. */
  readonly records: ReadonlyArray<{ get(target: string): TargetStepDetail | undefined }>;
  readonly outputsByTarget: ReadonlyMap<string, TargetOutputs>;
  readonly excluded: ReadonlySet<string>;
}

/** A target's overall state: excluded beats waiting beats running beats failed, and so on. */
export function targetState(view: Pick<TargetsView, 'records' | 'excluded'>, target: string): TargetState {
  if (view.excluded.has(target)) return 'excluded';
  const states = view.records.map((r) => r.get(target)?.state).filter((s): s is TargetState => s !== undefined);
  for (const s of ['waiting', 'running', 'failed'] as const) if (states.includes(s)) return s;
  if (states.includes('pending')) return 'pending';
  if (states.includes('succeeded')) return 'succeeded';
  return states.length > 0 ? 'skipped' : 'pending';
}

/** One target's steps (tails cut to `tailLimit`), state and outputs. */
export function targetDetail(view: Omit<TargetsView, 'targets'>, name: string, tailLimit: number): TargetDetail {
  const steps: TargetStepDetail[] = [];
  for (const r of view.records) {
    const rec = r.get(name);
    if (!rec) continue;
    steps.push({
      ...rec,
      children: rec.children
        .filter(Boolean)
        .map((c) => ({ ...c, ...(c.tail !== undefined ? { tail: keepTail(c.tail, tailLimit) } : {}) })),
    });
  }
  return { name, state: targetState(view, name), steps, outputs: view.outputsByTarget.get(name) ?? {} };
}

/** One target (tails up to TAIL_LIMITS.targetDetail), or a page of targets (smaller tails). */
export function targetsPage(
  view: TargetsView,
  { target, offset = 0, limit = DETAIL_PAGE_LIMIT }: TargetsQueryInput,
): TargetsPage {
  const { targets } = view;
  if (target !== undefined) {
    const t = targets.find((x) => x.name === target);
    return { total: t ? 1 : 0, offset: 0, targets: t ? [targetDetail(view, t.name, TAIL_LIMITS.targetDetail)] : [] };
  }
  const lim = Math.max(1, Math.min(limit, DETAIL_PAGE_LIMIT));
  const page = targets.slice(Math.max(0, offset), Math.max(0, offset) + lim);
  return {
    total: targets.length,
    offset,
    targets: page.map((t) => targetDetail(view, t.name, TAIL_LIMITS.targetPage)),
  };
}

/**
 * A TargetsView packed for a finished rollout's result (RolloutResult.pages): the names without their common
 * prefix, each step's records column by column with their tails and run ids (compact.ts, lossless), each distinct
 * outputs once. About 75 bytes a target of the benchmark's shape (a script step, a rolling step of three child
 * steps): 10,000 targets ≈ 0.8 MB.
 */
export interface PackedPages {
  v: 1;
  names: { prefix: string; rest: string[] };
  /** Per step: its name and its child steps' names (what the packed records leave out). */
  steps: Array<[string, string[]]>;
  /** What record times are packed relative to (ms). */
  base: number;
  records: Array<PackedStepRecords | null>;
  /** Each distinct outputs once, and per target (in `names` order) the index of its outputs there (-1: none). */
  outputs: { distinct: TargetOutputs[]; of: number[] };
  /** Indexes in `names`. */
  excluded: number[];
}

/** The rollout's own view (its records are maps, which packing walks). */
export type StateView = Omit<TargetsView, 'records'> & {
  readonly records: ReadonlyArray<ReadonlyMap<string, TargetStepDetail>>;
};

export function packPages(view: StateView, steps: readonly StepNames[], base: number): PackedPages {
  const names = view.targets.map((t) => t.name);
  const prefix = commonPrefix(names);
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const distinct: TargetOutputs[] = [];
  const seen = new Map<string, number>();
  const of = names.map((n) => {
    const o = view.outputsByTarget.get(n);
    if (o === undefined) return -1;
    const key = JSON.stringify(o);
    let at = seen.get(key);
    if (at === undefined) {
      at = distinct.push(o) - 1;
      seen.set(key, at);
    }
    return at;
  });
  return {
    v: 1,
    names: { prefix, rest: names.map((n) => n.slice(prefix.length)) },
    steps: steps.map((s) => [s.name, 'childSteps' in s ? s.childSteps.map((c) => c.name) : []]),
    base,
    records: view.records.map((r, i) => (r.size > 0 ? packStepRecords(r, steps[i], index, base, true) : null)),
    outputs: { distinct, of },
    excluded: names.flatMap((n, i) => (view.excluded.has(n) ? [i] : [])),
  };
}

export function unpackPages(p: PackedPages): TargetsView {
  const names = p.names.rest.map((r) => p.names.prefix + r);
  const targets = names.map((name) => ({ name }));
  const outputsByTarget = new Map<string, TargetOutputs>();
  p.outputs.of.forEach((at, i) => {
    const o = p.outputs.distinct[at];
    const name = names[i];
    if (o !== undefined && name !== undefined && !outputsByTarget.has(name)) outputsByTarget.set(name, o);
  });
  return {
    targets,
    // Each record unpacked when a page reads it (a page of 50 reads 50 of 10,000), then kept.
    records: p.records.map((r, i) => {
      if (!r) return new Map<string, TargetStepDetail>();
      const [name, children] = p.steps[i] ?? ['', []];
      const reader = stepRecordsReader(r, { name, childSteps: children.map((c) => ({ name: c })) }, targets, p.base);
      const at = new Map(reader.names.map((n, k) => [n, k]));
      const done = new Map<number, TargetStepDetail>();
      return {
        get(target: string): TargetStepDetail | undefined {
          const k = at.get(target);
          if (k === undefined) return undefined;
          let rec = done.get(k);
          if (!rec) done.set(k, (rec = reader.record(k)));
          return rec;
        },
      };
    }),
    outputsByTarget,
    excluded: new Set(p.excluded.map((i) => names[i] ?? '')),
  };
}

/** UTF-8 bytes of a string (payload limits are in bytes; the workflow has no Buffer). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && /[\udc00-\udfff]/.test(s[i + 1] ?? '')) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The most a finished rollout's whole result may weigh with its pages (Temporal refuses a payload over 2 MB): past
 * it the result goes without them and the client asks the workflow (the query) as before.
 */
export const RESULT_MAX_BYTES = 1_500_000;

/** The pages to add to a result that weighs `resultBytes` without them, or undefined when they do not fit. */
export function pagesWithin(packed: PackedPages, resultBytes: number, max = RESULT_MAX_BYTES): PackedPages | undefined {
  return resultBytes + utf8Bytes(JSON.stringify(packed)) + 20 <= max ? packed : undefined;
}
