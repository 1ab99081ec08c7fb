// Block Kit → HTML for the local console (shared by the page and the tests; a plain ES module, no build step).
//
// Renders the blocks the bot sends (header, section with text/fields/accessory, context, divider, actions with
// buttons and confirm dialogs, image, rich_text) and shows any other block or element type plainly (its type
// and JSON) instead of dropping it. All message text is escaped; interactive elements carry data-* attributes
// the page (and tests) use: data-action-id, data-block-id, data-value, data-style, data-confirm (JSON).
import { escapeHtml, mrkdwnToHtml, plainTextToHtml, textObjectToHtml } from './mrkdwn.js';

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function json(v) {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

function unknown(kind, type, value) {
  return (
    `<div class="unknown-${kind}" data-unknown-type="${escapeHtml(type)}">` +
    `<div class="unknown-title">Unsupported ${kind} type <code>${escapeHtml(type)}</code></div>` +
    `<pre class="unknown-json">${escapeHtml(json(value))}</pre></div>`
  );
}

function imageHtml(el, small) {
  const alt = typeof el.alt_text === 'string' ? el.alt_text : '';
  const title = isObj(el.title) ? `<div class="image-title">${plainTextToHtml(el.title.text)}</div>` : '';
  const url = typeof el.image_url === 'string' ? el.image_url : '';
  // No network fetch: the console shows the alt text (and the URL as a link when it is http(s)).
  const link = /^https?:/i.test(url)
    ? ` <a class="image-url" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">open</a>`
    : '';
  return (
    `<span class="image${small ? ' image-small' : ''}" role="img" aria-label="${escapeHtml(alt)}">` +
    `${title}<span class="image-alt">🖼 ${escapeHtml(alt || 'image')}</span>${small ? '' : link}</span>`
  );
}

/** One interactive element (button, or an unknown one shown plainly). */
export function elementHtml(el, blockId, ctx) {
  if (!isObj(el)) return unknown('element', typeof el, el);
  if (el.type === 'button') {
    const style = el.style === 'primary' || el.style === 'danger' ? el.style : '';
    const attrs = [
      `type="button"`,
      `class="bk-button${style ? ` bk-button-${style}` : ''}"`,
      `data-action-id="${escapeHtml(el.action_id ?? '')}"`,
      `data-block-id="${escapeHtml(blockId ?? '')}"`,
      `data-value="${escapeHtml(el.value ?? '')}"`,
      `data-style="${escapeHtml(style)}"`,
    ];
    if (typeof el.url === 'string') attrs.push(`data-url="${escapeHtml(el.url)}"`);
    if (isObj(el.confirm)) attrs.push(`data-confirm="${escapeHtml(JSON.stringify(el.confirm))}"`);
    return `<button ${attrs.join(' ')}>${textObjectToHtml(el.text, ctx)}</button>`;
  }
  if (el.type === 'image') return imageHtml(el, true);
  return unknown('element', String(el.type), el);
}

function richElements(elements, ctx) {
  if (!Array.isArray(elements)) return '';
  return elements
    .map((e) => {
      if (!isObj(e)) return '';
      const style = isObj(e.style) ? e.style : {};
      let h;
      switch (e.type) {
        case 'text':
          h = escapeHtml(e.text ?? '').replace(/\n/g, '<br>');
          break;
        case 'link':
          h = /^(https?:|mailto:)/i.test(e.url ?? '')
            ? `<a href="${escapeHtml(e.url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(e.text || e.url)}</a>`
            : escapeHtml(e.text || e.url || '');
          break;
        case 'user':
          h = mrkdwnToHtml(`<@${e.user_id}>`, ctx);
          break;
        case 'channel':
          h = mrkdwnToHtml(`<#${e.channel_id}>`, ctx);
          break;
        case 'usergroup':
          h = `<span class="mention">@${escapeHtml(e.usergroup_id ?? '')}</span>`;
          break;
        case 'broadcast':
          h = `<span class="mention special-mention">@${escapeHtml(e.range ?? '')}</span>`;
          break;
        case 'emoji':
          h = plainTextToHtml(`:${e.name}:`);
          break;
        default:
          return unknown('element', String(e.type), e);
      }
      if (style.code) h = `<code>${h}</code>`;
      if (style.bold) h = `<strong>${h}</strong>`;
      if (style.italic) h = `<em>${h}</em>`;
      if (style.strike) h = `<del>${h}</del>`;
      return h;
    })
    .join('');
}

function richText(block, ctx) {
  const parts = (Array.isArray(block.elements) ? block.elements : []).map((el) => {
    if (!isObj(el)) return '';
    switch (el.type) {
      case 'rich_text_section':
        return `<div class="rt-section">${richElements(el.elements, ctx)}</div>`;
      case 'rich_text_preformatted':
        return `<pre class="code-block"><code>${richElements(el.elements, ctx)}</code></pre>`;
      case 'rich_text_quote':
        return `<blockquote>${richElements(el.elements, ctx)}</blockquote>`;
      case 'rich_text_list': {
        const tag = el.style === 'ordered' ? 'ol' : 'ul';
        const items = (Array.isArray(el.elements) ? el.elements : []).map(
          (i) => `<li>${isObj(i) ? richElements(i.elements, ctx) : ''}</li>`,
        );
        return `<${tag}>${items.join('')}</${tag}>`;
      }
      default:
        return unknown('element', String(el.type), el);
    }
  });
  return parts.join('');
}

/** One block → HTML (wrapped in `.block.block-<type>` with data-block-id). */
export function blockHtml(block, ctx = {}) {
  if (!isObj(block)) return `<div class="block block-unknown">${unknown('block', typeof block, block)}</div>`;
  const type = String(block.type);
  const id = typeof block.block_id === 'string' ? block.block_id : '';
  const wrap = (cls, inner) =>
    `<div class="block block-${cls}" data-block-type="${escapeHtml(type)}" data-block-id="${escapeHtml(id)}">${inner}</div>`;
  switch (type) {
    case 'header':
      return wrap('header', `<div class="header-text">${plainTextToHtml(block.text?.text, block.text?.emoji)}</div>`);
    case 'section': {
      let inner = '';
      if (isObj(block.text)) inner += `<div class="section-text">${textObjectToHtml(block.text, ctx)}</div>`;
      if (Array.isArray(block.fields) && block.fields.length > 0) {
        inner += `<div class="section-fields">${block.fields
          .map((f) => `<div class="section-field">${textObjectToHtml(f, ctx)}</div>`)
          .join('')}</div>`;
      }
      let acc = '';
      if (isObj(block.accessory)) {
        acc = `<div class="section-accessory">${
          block.accessory.type === 'image' ? imageHtml(block.accessory, false) : elementHtml(block.accessory, id, ctx)
        }</div>`;
      }
      return wrap('section', `<div class="section-main">${inner}</div>${acc}`);
    }
    case 'context': {
      const els = (Array.isArray(block.elements) ? block.elements : []).map((e) => {
        if (isObj(e) && e.type === 'image') return imageHtml(e, true);
        if (isObj(e) && (e.type === 'mrkdwn' || e.type === 'plain_text')) {
          return `<span class="context-element">${textObjectToHtml(e, ctx)}</span>`;
        }
        return unknown('element', String(e?.type), e);
      });
      return wrap('context', els.join(''));
    }
    case 'divider':
      return wrap('divider', '<hr>');
    case 'actions': {
      const els = (Array.isArray(block.elements) ? block.elements : []).map((e) => elementHtml(e, id, ctx));
      return wrap('actions', els.join(''));
    }
    case 'image':
      return wrap('image', imageHtml(block, false));
    case 'rich_text':
      return wrap('rich_text', richText(block, ctx));
    default:
      return wrap('unknown', unknown('block', type, block));
  }
}

/** A message's body: its blocks, or its text as mrkdwn when it has none. */
export function messageBodyHtml(message, ctx = {}) {
  if (Array.isArray(message.blocks) && message.blocks.length > 0) {
    return message.blocks.map((b) => blockHtml(b, ctx)).join('');
  }
  return `<div class="block block-text">${mrkdwnToHtml(message.text ?? '', ctx)}</div>`;
}

function timeOf(ts) {
  const d = new Date(Number(String(ts).split('.')[0]) * 1000);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * One message as the console shows it.
 * @param {object} m a message from /api/state (ts, threadTs, user, userName, isBot, text, blocks, ephemeral,
 *   edited, replyCount)
 * @param {{ users?: Record<string,string>, channels?: Record<string,string>, inThread?: boolean }} ctx
 */
export function messageHtml(m, ctx = {}) {
  const name = m.userName ?? m.user ?? '?';
  const classes = ['msg'];
  if (m.isBot) classes.push('msg-bot');
  if (m.ephemeral) classes.push('ephemeral');
  const isRoot = !ctx.inThread && (m.threadTs === undefined || m.threadTs === m.ts);
  const attrs = [
    `class="${classes.join(' ')}"`,
    `data-ts="${escapeHtml(m.ts)}"`,
    m.threadTs !== undefined ? `data-thread-ts="${escapeHtml(m.threadTs)}"` : '',
    `data-user="${escapeHtml(m.user ?? '')}"`,
    m.ephemeral ? 'data-ephemeral="true"' : '',
  ].filter(Boolean);
  const initial = escapeHtml((name.match(/[\p{L}\p{N}]/u)?.[0] ?? '?').toUpperCase());
  const ephemeralNote = m.ephemeral ? '<div class="ephemeral-note">👁 Only visible to you</div>' : '';
  const edited = m.edited ? ' <span class="edited">(edited)</span>' : '';
  const replies =
    isRoot && m.replyCount > 0
      ? `<button type="button" class="reply-count" data-open-thread="${escapeHtml(m.ts)}">${m.replyCount} ${
          m.replyCount === 1 ? 'reply' : 'replies'
        }</button>`
      : '';
  const tools =
    isRoot && !m.ephemeral
      ? `<div class="msg-tools"><button type="button" class="reply-in-thread" data-open-thread="${escapeHtml(m.ts)}" title="Reply in thread">💬 Reply</button></div>`
      : '';
  return (
    `<div ${attrs.join(' ')}>` +
    `<div class="avatar${m.isBot ? ' avatar-bot' : ''}" aria-hidden="true">${initial}</div>` +
    `<div class="msg-main">${ephemeralNote}<div class="msg-meta"><span class="msg-author">${escapeHtml(name)}</span>` +
    `${m.isBot ? '<span class="app-badge">APP</span>' : ''}<span class="msg-time" title="${escapeHtml(m.ts)}">${timeOf(m.ts)}</span>${edited}</div>` +
    `<div class="msg-body">${messageBodyHtml(m, ctx)}</div>${replies}</div>${tools}</div>`
  );
}
