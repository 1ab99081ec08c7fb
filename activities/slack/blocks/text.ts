// Text helpers shared by the message builders: mrkdwn escaping, length-safe truncation, times and identities.
// Lengths are UTF-16 code units (`string.length`), which is at least what Slack counts, so staying under a limit
// here stays under it in Slack.
import type { types } from '@slack/bolt';
import { keepHead } from '../../../domain/text';

/** Plain text (no escaping: plain_text objects show text as is) cut to `max`, ending with … when cut. */
export { keepHead };

export type Block = types.KnownBlock;
export type SectionBlock = types.SectionBlock;
export type Button = types.Button;

/** What every builder returns: `text` is the notification / screen-reader fallback, `blocks` what is shown. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  contextText: 3000,
  /** Fallback text: Slack allows 40,000 but truncates long notifications anyway. */
  fallbackText: 3000,
} as const;

const ELLIPSIS = '…';

/** Escapes the three characters mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapedLength(ch: string): number {
  return ch === '&' ? 5 : ch === '<' || ch === '>' ? 4 : ch.length;
}

/**
 * Escapes `raw` for mrkdwn and keeps as much of its START as fits in `max` (entities are never split);
 * `marker(omitted)` is appended when something was cut (default …).
 */
export function fitStart(raw: string, max: number, marker: (omitted: number) => string = () => ELLIPSIS): string {
  const whole = escapeMrkdwn(raw);
  if (whole.length <= max) return whole;
  const budget = Math.max(0, max - marker(raw.length).length);
  let used = 0;
  let kept = 0;
  for (const ch of raw) {
    const cost = escapedLength(ch);
    if (used + cost > budget) break;
    used += cost;
    kept += ch.length;
  }
  return escapeMrkdwn(raw.slice(0, kept)) + marker(raw.length - kept);
}

/**
 * Escapes `raw` for mrkdwn and keeps as much of its END as fits in `max` (entities and surrogate pairs are never
 * split); `marker(omitted)` is prepended when something was cut.
 */
export function fitEnd(raw: string, max: number, marker: (omitted: number) => string = () => ELLIPSIS): string {
  const whole = escapeMrkdwn(raw);
  if (whole.length <= max) return whole;
  const budget = Math.max(0, max - marker(raw.length).length);
  let used = 0;
  let start = raw.length;
  while (start > 0) {
    let ch = raw.charAt(start - 1);
    // A low surrogate belongs with the high one before it.
    if (/[\uDC00-\uDFFF]/.test(ch) && start >= 2 && /[\uD800-\uDBFF]/.test(raw.charAt(start - 2))) {
      ch = raw.slice(start - 2, start);
    }
    const cost = escapedLength(ch);
    if (used + cost > budget) break;
    used += cost;
    start -= ch.length;
  }
  return marker(start) + escapeMrkdwn(raw.slice(start));
}

/** Shorthand for user-provided names inside mrkdwn: escaped and cut to `max` characters. */
export function name(raw: string, max = 80): string {
  return fitStart(raw, max);
}

/**
 * Splits `raw` into escaped mrkdwn chunks of at most `max` characters each, preferring to break at a newline or
 * a space; at most `maxChunks` chunks, the last one ending with a note of what was left out.
 */
export function chunkEscaped(raw: string, max: number, maxChunks: number): string[] {
  const out: string[] = [];
  let rest = raw;
  while (rest.length > 0 && out.length < maxChunks) {
    const last = out.length === maxChunks - 1;
    if (escapeMrkdwn(rest).length <= max) {
      out.push(escapeMrkdwn(rest));
      rest = '';
      break;
    }
    if (last) {
      out.push(fitStart(rest, max, (n) => `${ELLIPSIS} _(${n} more characters not shown)_`));
      rest = '';
      break;
    }
    // The longest prefix that fits, then back off to a line break or a space in its second half.
    const piece = fitStart(rest, max, () => '');
    let rawLen = unescapedLength(piece);
    const prefix = rest.slice(0, rawLen);
    const nl = prefix.lastIndexOf('\n');
    const sp = prefix.lastIndexOf(' ');
    const brk = nl > rawLen / 2 ? nl + 1 : sp > rawLen / 2 ? sp + 1 : rawLen;
    rawLen = Math.max(1, brk);
    out.push(escapeMrkdwn(rest.slice(0, rawLen)));
    rest = rest.slice(rawLen);
  }
  return out.filter((c) => c.length > 0);
}

function unescapedLength(escaped: string): number {
  return escaped.replace(/&(amp|lt|gt);/g, '_').length;
}

/** `1 target`, `2 targets`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `45s`, `12m 03s`, `1h 02m`, `2d 3h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Milliseconds from `fromIso` to `toIso` (or `now`); undefined when a time is unreadable. */
export function elapsedMs(fromIso: string, toIso: string | undefined, now: Date): number | undefined {
  const from = parseTime(fromIso);
  const to = toIso !== undefined ? parseTime(toIso) : now.getTime();
  return from === undefined || to === undefined ? undefined : to - from;
}

/** `14:03 UTC`, or undefined when the time is unreadable. */
export function formatUtcTime(iso: string | undefined): string | undefined {
  const t = parseTime(iso);
  if (t === undefined) return undefined;
  const d = new Date(t);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{1,30}$/;

/** A Slack user id becomes a mention (`<@U123>`); anything else (`cli:alice`, `timeout`) escaped plain text. */
export function who(identity: string): string {
  return SLACK_USER_ID.test(identity) ? `<@${identity}>` : name(identity, 100);
}

/** `▰▰▰▱▱▱▱▱▱▱`: full only when done = total, never empty once something is done. */
export function progressBar(done: number, total: number, width = 10): string {
  let filled = total > 0 ? Math.floor((done / total) * width) : 0;
  if (done > 0 && filled === 0) filled = 1;
  if (done < total && filled === width) filled = width - 1;
  if (total > 0 && done >= total) filled = width;
  filled = Math.max(0, Math.min(width, filled));
  return '▰'.repeat(filled) + '▱'.repeat(width - filled);
}

/** Names joined with commas, at most `max` shown, then `+N more` (N counted against `total`). */
export function nameList(names: readonly string[], total: number, max = 10, each = 60): string {
  const shown = names.slice(0, max).map((n) => name(n, each));
  const more = Math.max(0, total - shown.length);
  return shown.join(', ') + (more > 0 ? `${shown.length > 0 ? ' ' : ''}+${more} more` : '');
}

// ---- block builders ---------------------------------------------------------------------------------------

export function mrkdwnSection(text: string, blockId?: string): SectionBlock {
  return {
    type: 'section',
    ...(blockId ? { block_id: blockId } : {}),
    text: { type: 'mrkdwn', text: text.length > 0 ? text : ' ' },
  };
}

/**
 * Packs already-escaped lines into sections of at most 3,000 characters, at most `maxSections` of them; lines
 * that do not fit are summarised by `more(count)` at the end of the last section.
 */
export function packLines(
  lines: readonly string[],
  blockIdPrefix: string,
  maxSections: number,
  more: (count: number) => string,
  nthId: (prefix: string, i: number) => string,
): SectionBlock[] {
  const max = LIMITS.sectionText;
  const reserve = 100;
  const chunks: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < lines.length; i++) {
    const line = safeCut(lines[i] ?? '', max - reserve);
    const next = cur ? `${cur}\n${line}` : line;
    const lastChunk = chunks.length === maxSections - 1;
    const room = lastChunk && i < lines.length - 1 ? max - reserve : max;
    if (next.length <= room) {
      cur = next;
      continue;
    }
    if (lastChunk) break;
    chunks.push(cur);
    cur = line;
  }
  if (i < lines.length) cur = cur ? `${cur}\n${more(lines.length - i)}` : more(lines.length - i);
  if (cur) chunks.push(cur);
  return chunks.map((c, k) => mrkdwnSection(c, nthId(blockIdPrefix, k)));
}

export function contextBlock(texts: readonly string[], blockId?: string): types.ContextBlock {
  return {
    type: 'context',
    ...(blockId ? { block_id: blockId } : {}),
    elements: texts.slice(0, 10).map((t) => ({ type: 'mrkdwn' as const, text: safeCut(t, LIMITS.contextText) || ' ' })),
  };
}

export interface ConfirmSpec {
  title: string;
  text: string;
  confirm: string;
  deny?: string;
}

export function button(opts: {
  text: string;
  actionId: string;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmSpec;
}): Button {
  return {
    type: 'button',
    action_id: opts.actionId,
    text: { type: 'plain_text', text: keepHead(opts.text, LIMITS.buttonText) },
    value: opts.value,
    ...(opts.style ? { style: opts.style } : {}),
    ...(opts.confirm
      ? {
          confirm: {
            title: { type: 'plain_text', text: keepHead(opts.confirm.title, LIMITS.confirmTitle) },
            text: { type: 'plain_text', text: keepHead(opts.confirm.text, LIMITS.confirmText) },
            confirm: { type: 'plain_text', text: keepHead(opts.confirm.confirm, LIMITS.confirmButton) },
            deny: { type: 'plain_text', text: keepHead(opts.confirm.deny ?? 'Cancel', LIMITS.confirmButton) },
            ...(opts.style === 'danger' ? { style: 'danger' as const } : {}),
          },
        }
      : {}),
  };
}

/**
 * Cuts already-built mrkdwn to `max` without leaving half an entity (`&am`) or half a mention/link (`<@U1`) at
 * the end.
 */
export function safeCut(mrkdwn: string, max: number): string {
  if (mrkdwn.length <= max) return mrkdwn;
  let t = mrkdwn.slice(0, Math.max(0, max - 1));
  t = t
    .replace(/&[a-z]*$/, '')
    .replace(/<[^>]*$/, '')
    .replace(/[\uD800-\uDBFF]$/, '');
  return t + ELLIPSIS;
}

/** Fallback text: escaped by the caller, cut to a sane notification length, never empty. */
export function fallback(text: string): string {
  const t = safeCut(text, LIMITS.fallbackText);
  return t.length > 0 ? t : ' ';
}
