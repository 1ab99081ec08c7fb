// Slack mrkdwn → HTML for the local console. A plain ES module with no dependencies: the page imports it as is
// (no build step) and the tests import it from Node.
//
// Everything that comes from a message is HTML-escaped; the only tags in the output are the ones made here.
// Rules followed (as Slack renders them): the text arrives with `&`, `<`, `>` escaped as `&amp;`, `&lt;`, `&gt;`
// and raw `<…>` are links, mentions and special commands; ```fenced``` code is shown as is; `code` spans are not
// formatted further; *bold*, _italic_ and ~strike~ need a word boundary outside the markers and no space inside
// them; lines starting with `>` are quotes; :shortcodes: of known emoji become the emoji; newlines are kept.

/** A few emoji by shortcode: the ones the bot uses, and common ones. Unknown shortcodes stay as text. */
export const EMOJI = {
  x: '❌',
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  ballot_box_with_check: '☑️',
  arrow_forward: '▶️',
  fast_forward: '⏩',
  raised_hand: '✋',
  warning: '⚠️',
  octagonal_sign: '🛑',
  double_vertical_bar: '⏸️',
  white_circle: '⚪',
  large_green_circle: '🟢',
  red_circle: '🔴',
  large_yellow_circle: '🟡',
  large_blue_circle: '🔵',
  see_no_evil: '🙈',
  repeat: '🔁',
  no_entry_sign: '🚫',
  no_entry: '⛔',
  leftwards_arrow_with_hook: '↩️',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  arrows_counterclockwise: '🔄',
  rocket: '🚀',
  tada: '🎉',
  eyes: '👀',
  thumbsup: '👍',
  '+1': '👍',
  thumbsdown: '👎',
  '-1': '👎',
  wave: '👋',
  fire: '🔥',
  boom: '💥',
  bulb: '💡',
  lock: '🔒',
  question: '❓',
  exclamation: '❗',
  information_source: 'ℹ️',
  stopwatch: '⏱️',
  clock1: '🕐',
  gear: '⚙️',
  package: '📦',
  memo: '📝',
  link: '🔗',
  construction: '🚧',
  skull: '💀',
  smile: '😄',
  slightly_smiling_face: '🙂',
  robot_face: '🤖',
};

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Slack's three entities back to characters (only those: `&amp;lt;` stays `&lt;` as text). */
export function decodeEntities(s) {
  return String(s).replace(/&(amp|lt|gt);/g, (_, e) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

function emojify(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => (Object.hasOwn(EMOJI, name) ? EMOJI[name] : whole));
}

const SAFE_URL = /^(https?:|mailto:)/i;

function userName(id, label, opts) {
  const known = opts.users && Object.hasOwn(opts.users, id) ? opts.users[id] : undefined;
  return known ?? (label !== undefined && label !== '' ? label.replace(/^@/, '') : id);
}

function channelName(id, label, opts) {
  const known = opts.channels && Object.hasOwn(opts.channels, id) ? opts.channels[id] : undefined;
  return known ?? (label !== undefined && label !== '' ? label : id);
}

/**
 * One `<…>` token (the inside, still entity-escaped) → HTML. `plain` renders the text only (inside code).
 */
function angleToken(inner, opts, plain) {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? decodeEntities(inner.slice(bar + 1)) : undefined;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const text = `@${userName(id, label, opts)}`;
    if (plain) return escapeHtml(text);
    return `<span class="mention" data-user-id="${escapeHtml(id)}">${escapeHtml(text)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const text = `#${channelName(id, label, opts)}`;
    if (plain) return escapeHtml(text);
    return `<span class="mention channel-mention" data-channel-id="${escapeHtml(id)}">${escapeHtml(text)}</span>`;
  }
  if (target.startsWith('!')) {
    const cmd = target.slice(1);
    let text;
    if (cmd === 'here' || cmd === 'channel' || cmd === 'everyone') text = `@${cmd}`;
    else if (cmd.startsWith('subteam^')) text = label ?? `@${cmd.slice('subteam^'.length)}`;
    else if (cmd.startsWith('date^')) text = label ?? cmd.split('^')[1] ?? cmd;
    else text = label ?? `<${cmd}>`;
    if (plain) return escapeHtml(text);
    return `<span class="mention special-mention">${escapeHtml(text)}</span>`;
  }
  const url = decodeEntities(target);
  const text = label !== undefined && label !== '' ? label : url;
  if (plain || !SAFE_URL.test(url)) return escapeHtml(text);
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(text)}</a>`;
}

/** `<…>` tokens inside `text` rendered as plain text (for code), everything else escaped. */
function codeText(text, opts) {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/<([^<>\n]+)>/g)) {
    out += escapeHtml(decodeEntities(text.slice(last, m.index)));
    out += angleToken(m[1], opts, true);
    last = m.index + m[0].length;
  }
  return out + escapeHtml(decodeEntities(text.slice(last)));
}

// Markers need a boundary outside: start/end, whitespace, punctuation, or a tag made by an earlier pass.
const OPEN = '(^|[\\s>(\\[{"\'.,;:!?/\\-\u0000])';
const CLOSE = '(?=$|[\\s<)\\]}"\'.,;:!?/\\-\u0000])';
function emphasis(marker, tag) {
  const m = marker === '*' ? '\\*' : marker;
  // No space right inside the markers, no newline and no marker inside.
  return [new RegExp(`${OPEN}${m}([^\\s${m}](?:[^${m}\\n]*?[^\\s${m}])?)${m}${CLOSE}`, 'g'), `$1<${tag}>$2</${tag}>`];
}
const EMPHASIS = [emphasis('*', 'strong'), emphasis('_', 'em'), emphasis('~', 'del')];

/** Inline mrkdwn of one line (no fences, no quotes) → HTML. */
function inline(text, opts) {
  const held = [];
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  // Inline code first (its inside is not formatted), then links and mentions.
  let s = text.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${codeText(code, opts)}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(angleToken(inner, opts, false)));
  s = escapeHtml(decodeEntities(s));
  for (let pass = 0; pass < 2; pass++) {
    for (const [re, rep] of EMPHASIS) s = s.replace(re, rep);
  }
  s = emojify(s);
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
}

/** Non-code text: quotes (lines starting with `>` or `&gt;`) and line breaks around inline formatting. */
function paragraphs(text, opts) {
  if (text === '') return '';
  const pieces = [];
  for (const line of text.split('\n')) {
    const q = /^(?:&gt;|>)\s?(.*)$/.exec(line);
    const prev = pieces.at(-1);
    if (q && prev?.quote) prev.lines.push(q[1]);
    else if (q) pieces.push({ quote: true, lines: [q[1]] });
    else pieces.push({ quote: false, lines: [line] });
  }
  let out = '';
  pieces.forEach((p, i) => {
    if (p.quote) {
      out += `<blockquote>${p.lines.map((l) => inline(l, opts)).join('<br>')}</blockquote>`;
      return;
    }
    if (i > 0 && !pieces[i - 1].quote) out += '<br>';
    out += inline(p.lines[0], opts);
  });
  return out;
}

/**
 * Slack mrkdwn → HTML.
 * @param {string} text mrkdwn as Slack stores it (`&`, `<`, `>` escaped as entities)
 * @param {{ users?: Record<string,string>, channels?: Record<string,string> }} [opts] id → name, for mentions
 */
export function mrkdwnToHtml(text, opts = {}) {
  const src = String(text ?? '');
  let out = '';
  let last = 0;
  for (const m of src.matchAll(/```([\s\S]*?)```/g)) {
    // The newline next to a fence belongs to the fence.
    const before = src.slice(last, m.index).replace(/\n$/, '');
    out += paragraphs(last > 0 ? before.replace(/^\n/, '') : before, opts);
    const body = m[1].replace(/^\n/, '').replace(/\n$/, '');
    out += `<pre class="code-block"><code>${codeText(body, opts)}</code></pre>`;
    last = m.index + m[0].length;
  }
  const rest = src.slice(last);
  out += paragraphs(last > 0 ? rest.replace(/^\n/, '') : rest, opts);
  return out;
}

/** A plain_text object's text → HTML (escaped; `emoji` shortcodes converted unless emoji === false). */
export function plainTextToHtml(text, emoji = true) {
  const html = escapeHtml(String(text ?? '')).replace(/\n/g, '<br>');
  return emoji === false ? html : emojify(html);
}

/** A Block Kit text object (`{ type: 'mrkdwn' | 'plain_text', text }`) → HTML. */
export function textObjectToHtml(obj, opts = {}) {
  if (obj === null || typeof obj !== 'object') return '';
  if (obj.type === 'mrkdwn') return mrkdwnToHtml(obj.text, opts);
  return plainTextToHtml(obj.text, obj.emoji);
}
