// Masking: every sensitive value (secrets resolved by the script activity, values a script marks with
// `##rollout[mask …]` or `mask_output VALUE`) is replaced by `***` in text before it leaves the activity.
// Pure functions, used by the script activity (activities/scripts.ts) and its tests.
//
// Masking works on ASSEMBLED text (whole tails, whole lines, whole error messages), never per chunk, so a value
// split across two output chunks is still found. A tail cut at its start may begin with the second half of a
// value: `maskText(…, { cutStart: true })` also masks a leading piece of a value (at least 2 characters).

export const MASK = '***';

/** Values shorter than this are not masked (a 1–2 character "secret" would blank half of every line). */
export const MIN_MASK_LENGTH = 3;

/**
 * A script marks a value for masking by printing one of
 *   ##rollout[mask value='VALUE']     (quoted: a quote inside VALUE is written as \', a backslash as \\)
 *   ##rollout[mask VALUE]             (raw: everything between `mask ` and the last `]` of the line)
 * or by calling the shell helper `mask_output VALUE` (it prints the quoted form).
 */
const QUOTED = /^##rollout\[mask value='((?:[^'\\]|\\.)*)'\]\s*$/;
const RAW = /^##rollout\[mask (.+)\]\s*$/;

export function parseMaskLine(line: string): string | undefined {
  const l = line.endsWith('\r') ? line.slice(0, -1) : line;
  const q = QUOTED.exec(l);
  if (q) return (q[1] ?? '').replace(/\\(.)/g, '$1');
  const r = RAW.exec(l);
  return r ? r[1] : undefined;
}

/** The shell function every script gets, so scripts can write `mask_output "$TOKEN"`. */
export const MASK_OUTPUT_SHELL_FUNCTION = String.raw`mask_output() { _v=$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"); printf "##rollout[mask value='%s']\n" "$_v"; }`;

/** A set of values to mask, longest first (so a value containing another is masked whole). */
export class Masker {
  private values: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  /** Adds a value (ignored when shorter than MIN_MASK_LENGTH). Multi-line values are masked line by line too. */
  add(value: string): void {
    const parts = value.includes('\n') ? [value, ...value.split(/\r?\n/).map((p) => p.trim())] : [value];
    let changed = false;
    for (const p of parts) {
      if (p.length < MIN_MASK_LENGTH || this.values.includes(p)) continue;
      this.values.push(p);
      changed = true;
    }
    if (changed) this.values.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.length;
  }

  mask(text: string, opts: { cutStart?: boolean } = {}): string {
    return maskText(text, this.values, opts);
  }

  /** Masks every value of a record (output variables). */
  maskRecord(r: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) out[k] = this.mask(v);
    return out;
  }
}

/** Replaces every occurrence of every value (longest first) by `***`. */
export function maskText(text: string, values: readonly string[], opts: { cutStart?: boolean } = {}): string {
  if (text === '' || values.length === 0) return text;
  const sorted = [...values].filter((v) => v.length >= MIN_MASK_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of sorted) if (out.includes(v)) out = out.split(v).join(MASK);
  if (opts.cutStart) {
    // The text was cut at its start: it may begin with the end of a value.
    let best = 0;
    for (const v of sorted) {
      for (let n = Math.min(v.length - 1, out.length); n >= 2; n--) {
        if (n > best && out.startsWith(v.slice(v.length - n))) {
          best = n;
          break;
        }
      }
    }
    if (best > 0) out = MASK + out.slice(best);
  }
  return out;
}
