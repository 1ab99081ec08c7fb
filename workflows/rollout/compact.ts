// What a rollout carries over continue-as-new, packed so that it fits in one payload at 10,000 targets (Temporal
// refuses a payload over 2 MB: the server's limit.blobSize.error default, which the dev server keeps). Pure
// functions, no commands; used by runs that have `scale.step-continue` (stepContinue.ts), read by any run.
//
// The computed bound (checked by test/engine/stepContinue.test.ts, which packs a finished 10,000-target rollout of
// the benchmark's shape): the plan's targets go column by column (a value every target shares once, a string
// column without its common prefix), ~10 bytes a local target; each target step record column by column too
// (state one character; start as ms after the previous record's start; duration in ms; per child step its state,
// exit code, start after the record's start and duration), ~15 bytes a record + ~12 a child step; no tails, no
// step or child-step names the plan already has, no run ids (Retry re-attaches only while its decision is open,
// and no run continues as new with a decision open). 10,000 targets × (a script step + a rolling step of three
// child steps) ≈ 10,000 × (10 + 2 × 15 + 4 × 12) ≈ 0.9 MB, under half the limit; outputs are kept only for targets
// a later step can still read them on (see neededOutputs).
import type { RolloutPlan, StepPlan, TargetPlan } from '../../domain/plan';
import { keepTail } from '../../domain/text';
import type { ChildResult, TargetState, TargetStepDetail } from '../messages';

/** One column of a target field: the values after a prefix every one of them has (strings only); null = absent. */
export interface PackedColumn {
  prefix?: string;
  values: unknown[];
}

/** The plan's targets: each field either one value all share (`same`) or a column. */
export interface PackedTargets {
  count: number;
  same: Record<string, unknown>;
  columns: Record<string, PackedColumn>;
}

/** A child step's results across a step's records (one entry per record; state ' ' = no result at this index). */
export interface PackedChildren {
  states: string;
  exitCodes: Array<number | null>;
  /** ms after the record's start. */
  starts: Array<number | null>;
  durations: Array<number | null>;
  /** Per record index: the rest of the result when there is more (a name the plan does not have, an attempt past
   * the first, an error, a run-once outcome...). */
  more?: Record<string, ChildMore>;
  /** Packed with `keep` only: each distinct tail once, and per record the index of its tail there (-1: none). */
  tails?: { distinct: string[]; of: number[] };
  /** Packed with `keep` only: per record its run id (null: none). */
  runIds?: Array<string | null>;
}

/** The rest of a child result; `noExitCode`: it has no exit code at all (not even null). */
export type ChildMore = Partial<ChildResult> & { noExitCode?: true };

/** One step's target records. */
export interface PackedStepRecords {
  /** Index in the rollout's targets (the plan's, then provisioned ones), or the name if it is in neither. */
  targets: Array<number | string>;
  states: string;
  /** ms after the previous record's start (the first: after the rollout's start). */
  starts: Array<number | null>;
  durations: Array<number | null>;
  children: PackedChildren[];
  /** Per record index: its other fields (notRun, waitingOn, a step name other than the plan's). */
  more?: Record<string, Partial<TargetStepDetail>>;
}

const TARGET_STATES: TargetState[] = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'excluded'];
const TARGET_CODES = 'prwsfkx';
const CHILD_STATES: Array<ChildResult['state']> = ['succeeded', 'failed', 'ignored', 'skipped'];
const CHILD_CODES = 'sfik';
const ERROR_LIMIT = 300;

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The longest prefix all values share ('' for none). */
export function commonPrefix(values: readonly string[]): string {
  let p = values[0] ?? '';
  for (const v of values) {
    let i = 0;
    while (i < p.length && i < v.length && p[i] === v[i]) i++;
    p = p.slice(0, i);
    if (!p) break;
  }
  return p;
}

export function packTargets(targets: readonly TargetPlan[]): PackedTargets {
  const keys = new Set<string>();
  for (const t of targets) for (const k of Object.keys(t)) keys.add(k);
  const packed: PackedTargets = { count: targets.length, same: {}, columns: {} };
  for (const k of keys) {
    const values = targets.map((t) => (t as unknown as Record<string, unknown>)[k]);
    const first = values[0];
    if (first !== undefined && values.every((v) => same(v, first))) {
      packed.same[k] = first;
      continue;
    }
    const strings = values.filter((v): v is string => typeof v === 'string');
    const prefix = strings.length === values.length ? commonPrefix(strings) : '';
    packed.columns[k] = {
      ...(prefix ? { prefix } : {}),
      values: values.map((v) => (v === undefined ? null : prefix ? (v as string).slice(prefix.length) : v)),
    };
  }
  return packed;
}

export function unpackTargets(p: PackedTargets): TargetPlan[] {
  return Array.from({ length: p.count }, (_, i) => {
    const t: Record<string, unknown> = { ...p.same };
    for (const [k, c] of Object.entries(p.columns)) {
      const v = c.values[i];
      if (v === null || v === undefined) continue;
      t[k] = c.prefix !== undefined ? c.prefix + (v as string) : v;
    }
    return t as unknown as TargetPlan;
  });
}

const ms = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));
const iso = (t: number): string => new Date(t).toISOString();
/** A time as ms; kept losslessly, an unparsable one is no time (its string is kept as it is). */
const time = (s: string | undefined, keep: boolean): number | undefined => {
  const t = ms(s);
  return keep && t !== undefined && !Number.isFinite(t) ? undefined : t;
};
const ISO_FORM = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):\d\d:\d\d\.\d{3}Z$/;
/**
 * A time packed as ms comes back as the same string: it is in the form toISOString writes, and a real date (no
 * 30 February, no hour 24; minutes and seconds past 59 do not parse). Checked on the string: toISOString costs
 * microseconds, and 10,000 targets have 100,000 times.
 */
const roundTrips = (s: string | undefined, t: number | undefined): boolean => {
  if (s === undefined) return true;
  if (t === undefined || !Number.isFinite(t)) return false;
  const m = ISO_FORM.exec(s);
  if (!m) return false;
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23;
};

function distinctIndex(distinct: string[], value: string, index: Array<Map<string, number>>, ci: number): number {
  const seen = (index[ci] ??= new Map());
  let at = seen.get(value);
  if (at === undefined) {
    at = distinct.push(value) - 1;
    seen.set(value, at);
  }
  return at;
}

/** What packing a step's records needs of the step: its name and its child steps' names (a StepPlan has them). */
export type StepNames = StepPlan | { name: string; childSteps: ReadonlyArray<{ name: string }> };

/** The names a step's child results carry when the plan has them (exec steps). */
function childNames(step: StepNames | undefined): string[] {
  return step && 'childSteps' in step ? step.childSteps.map((c) => c.name) : [];
}

/**
 * Packs one step's records. By default as continue-as-new carries them (no tails, no run ids, errors clipped);
 * with `keep` losslessly (tails, run ids and whole errors kept, a time that would not come back the same kept as
 * it is): what a finished rollout's result records for its target pages (pages.ts).
 */
export function packStepRecords(
  records: ReadonlyMap<string, TargetStepDetail>,
  step: StepNames | undefined,
  targetIndex: ReadonlyMap<string, number>,
  startedAtMs: number,
  keep = false,
): PackedStepRecords {
  const names = childNames(step);
  const out: PackedStepRecords = { targets: [], states: '', starts: [], durations: [], children: [] };
  // Per child column: where each distinct tail is in its `tails.distinct`.
  const tailIndex: Array<Map<string, number>> = [];
  let prev = startedAtMs;
  let i = 0;
  for (const [name, rec] of records) {
    out.targets.push(targetIndex.get(name) ?? name);
    out.states += TARGET_CODES[TARGET_STATES.indexOf(rec.state)] ?? 'p';
    const start = time(rec.startedAt, keep);
    const end = time(rec.endedAt, keep);
    out.starts.push(start === undefined ? null : start - prev);
    if (start !== undefined) prev = start;
    out.durations.push(end === undefined || start === undefined ? null : end - start);
    const { step: stepName, state: _s, startedAt: _a, endedAt: _e, children, ...rest } = rec;
    const more: Partial<TargetStepDetail> = { ...rest };
    if (stepName !== step?.name) more.step = stepName;
    if (start === undefined && end !== undefined) more.endedAt = rec.endedAt;
    if (keep) {
      if (!roundTrips(rec.startedAt, start)) more.startedAt = rec.startedAt;
      if (!roundTrips(rec.endedAt, end)) more.endedAt = rec.endedAt;
    }
    if (Object.keys(more).length > 0) (out.more ??= {})[String(i)] = more;
    for (let ci = 0; ci < Math.max(children.length, out.children.length); ci++) {
      let col = out.children[ci];
      if (!col) {
        // A column that appears at record i: the records before it have no result there.
        col = { states: ' '.repeat(i), exitCodes: [], starts: [], durations: [] };
        if (keep) {
          col.tails = { distinct: [], of: [] };
          col.runIds = [];
        }
        for (let k = 0; k < i; k++) {
          col.exitCodes.push(null);
          col.starts.push(null);
          col.durations.push(null);
          col.tails?.of.push(-1);
          col.runIds?.push(null);
        }
        out.children[ci] = col;
      }
      const c = children[ci];
      if (!c) {
        col.states += ' ';
        col.exitCodes.push(null);
        col.starts.push(null);
        col.durations.push(null);
        col.tails?.of.push(-1);
        col.runIds?.push(null);
        continue;
      }
      const { name: cname, state, exitCode, startedAt, endedAt, attempt, tail, runId, ...crest } = c;
      col.states += CHILD_CODES[CHILD_STATES.indexOf(state)] ?? 's';
      col.exitCodes.push(exitCode ?? null);
      const cs = time(startedAt, keep);
      const ce = time(endedAt, keep);
      col.starts.push(cs === undefined ? null : cs - (start ?? startedAtMs));
      col.durations.push(cs === undefined || ce === undefined ? null : ce - cs);
      const cmore: ChildMore = { ...crest };
      if (cmore.error !== undefined && !keep) cmore.error = keepTail(cmore.error, ERROR_LIMIT);
      if (cname !== names[ci]) cmore.name = cname;
      if (attempt !== 1) cmore.attempt = attempt;
      if (exitCode === undefined) cmore.noExitCode = true;
      if (cs === undefined && endedAt !== undefined) cmore.endedAt = endedAt;
      if (col.tails && col.runIds) {
        col.tails.of.push(tail === undefined ? -1 : distinctIndex(col.tails.distinct, tail, tailIndex, ci));
        col.runIds.push(runId ?? null);
        if (!roundTrips(startedAt, cs)) cmore.startedAt = startedAt;
        if (!roundTrips(endedAt, ce)) cmore.endedAt = endedAt;
      }
      if (Object.keys(cmore).length > 0) (col.more ??= {})[String(i)] = cmore;
    }
    i++;
  }
  for (const col of out.children) {
    if (col.tails?.distinct.length === 0) delete col.tails;
    if (col.runIds?.every((r) => r === null)) delete col.runIds;
  }
  return out;
}

export function unpackStepRecords(
  p: PackedStepRecords,
  step: StepNames | undefined,
  targets: ReadonlyArray<{ name: string }>,
  startedAtMs: number,
): Array<[string, TargetStepDetail]> {
  const reader = stepRecordsReader(p, step, targets, startedAtMs);
  return reader.names.map((name, i) => [name, reader.record(i)]);
}

/**
 * One packed step's records, each unpacked when asked for (a page of targets reads a few of thousands): the
 * targets' names in record order, and record `i` as unpackStepRecords gives it.
 */
export function stepRecordsReader(
  p: PackedStepRecords,
  step: StepNames | undefined,
  targets: ReadonlyArray<{ name: string }>,
  startedAtMs: number,
): { names: string[]; record(i: number): TargetStepDetail } {
  const names = childNames(step);
  // Starts are packed after the previous record's start: sum them up once.
  const starts: Array<number | undefined> = [];
  let prev = startedAtMs;
  for (let i = 0; i < p.targets.length; i++) {
    const ds = p.starts[i];
    const start = ds === null || ds === undefined ? undefined : prev + ds;
    if (start !== undefined) prev = start;
    starts.push(start);
  }
  return {
    names: p.targets.map((ref) => (typeof ref === 'number' ? (targets[ref]?.name ?? String(ref)) : ref)),
    record(i) {
      const start = starts[i];
      const dur = p.durations[i];
      const children: ChildResult[] = [];
      p.children.forEach((col, ci) => {
        const code = col.states[i];
        if (code === undefined || code === ' ') return;
        const cs = col.starts[i];
        const cstart = cs === null || cs === undefined ? undefined : (start ?? startedAtMs) + cs;
        const cd = col.durations[i];
        const { noExitCode, ...more } = col.more?.[String(i)] ?? {};
        const exit = col.exitCodes[i];
        const tail = col.tails?.distinct[col.tails.of[i] ?? -1];
        const runId = col.runIds?.[i];
        const child: ChildResult = {
          name: names[ci] ?? '',
          state: CHILD_STATES[CHILD_CODES.indexOf(code)] ?? 'succeeded',
          ...(noExitCode ? {} : { exitCode: exit ?? null }),
          ...(cstart !== undefined ? { startedAt: iso(cstart) } : {}),
          ...(cstart !== undefined && cd !== null && cd !== undefined ? { endedAt: iso(cstart + cd) } : {}),
          attempt: 1,
          ...(tail !== undefined ? { tail } : {}),
          ...(runId !== undefined && runId !== null ? { runId } : {}),
          ...more,
        };
        children[ci] = child;
      });
      return {
        step: step?.name ?? '',
        state: TARGET_STATES[TARGET_CODES.indexOf(p.states[i] ?? 'p')] ?? 'pending',
        ...(start !== undefined ? { startedAt: iso(start) } : {}),
        ...(start !== undefined && dur !== null && dur !== undefined ? { endedAt: iso(start + dur) } : {}),
        children,
        ...(p.more?.[String(i)] ?? {}),
      };
    },
  };
}

/**
 * The targets whose outputs a later step can still read: those a step after `si` reaches (by its tags), those the
 * step `si` has not run yet (`pending`), and the first target (a manual step's `if:` reads its scope).
 */
export function neededOutputs(
  plan: RolloutPlan,
  si: number,
  pendingHere: (target: string) => boolean,
): (t: TargetPlan) => boolean {
  const later = plan.steps.slice(si + 1).filter((s) => s.type !== 'manual');
  const first = plan.targets[0]?.name;
  return (t) =>
    t.name === first ||
    pendingHere(t.name) ||
    later.some((s) => !('tags' in s) || s.tags.length === 0 || s.tags.some((tag) => t.tags.includes(tag)));
}
