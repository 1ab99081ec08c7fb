// Cutting text to a bound. Two directions, named for the end they keep: output tails keep the END (the last
// lines of a failed script say why it failed), labels and titles keep the START.

const ELLIPSIS = '…';

/** Keeps the last `max` characters (an ellipsis first when cut). */
export function keepTail(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(s.length - Math.max(0, max - 1));
  // Never start with the second half of a surrogate pair.
  if (/^[\uDC00-\uDFFF]/.test(cut)) cut = cut.slice(1);
  return ELLIPSIS + cut;
}

/** Keeps the first `max` characters (ending with an ellipsis when cut). */
export function keepHead(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, Math.max(0, max - 1));
  // Never leave half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

/**
 * Output-tail bounds, from the target to a Slack card. Each hop keeps less, because each is paid for in a
 * different place: the activity's in-memory tail, every history event that carries a result, every query reply.
 */
export const TAIL_LIMITS = {
  /** Per stream, kept by the transport while a script runs (the activity's memory). */
  activity: 4000,
  /** Per child step, in workflow history (the chain's result, the rollout's records). */
  history: 1500,
  /** One target's detail query (`rollout status --target`). */
  targetDetail: 4000,
  /** Each target of a paged targets query (50 targets a page stay well under the 2 MB query limit). */
  targetPage: 300,
  /** A decision in the summary query and in state carried over continue-as-new. */
  decisionSummary: 500,
} as const;
