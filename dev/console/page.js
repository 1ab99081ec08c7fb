// The local console page: renders the stand-in's channel like Slack and sends commands, clicks and replies to the
// console server, which signs them and posts them to the bot. Vanilla ES module; no build step.
// All message content is rendered through blocks.js / mrkdwn.js, which escape everything they are given.
import { messageHtml } from './blocks.js';
import { escapeHtml, plainTextToHtml, textObjectToHtml } from './mrkdwn.js';

/* global document, window, localStorage, EventSource */

const $ = (id) => document.getElementById(id);

const S = {
  me: localStorage.getItem('rollout-console-user') ?? '',
  users: [],
  directory: {},
  channels: {},
  channel: { id: '', name: '' },
  /** ts → message (top-level, replies and my ephemerals) */
  messages: new Map(),
  openThread: null,
  es: null,
  panels: {},
};

// ---- API -------------------------------------------------------------------------------------------------------

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, user: S.me }),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

function notice(text, level = 'info') {
  const el = document.createElement('div');
  el.className = `notice notice-${level}`;
  el.textContent = text;
  $('notices').append(el);
  setTimeout(() => el.remove(), level === 'error' ? 10000 : 5000);
}

async function loadState() {
  const res = await fetch(`/api/state?user=${encodeURIComponent(S.me)}`);
  if (!res.ok) {
    // The remembered user may be gone: fall back to the default one.
    if (S.me !== '') {
      S.me = '';
      return loadState();
    }
    throw new Error(`state: HTTP ${res.status}`);
  }
  const st = await res.json();
  S.me = st.me.id;
  S.users = st.users;
  S.directory = st.directory;
  S.channels = st.channels;
  S.channel = st.channel;
  S.panels = st.panels ?? {};
  document.title = `#${st.channel.name} · rollout console`;
  $('workspace-name').textContent = st.team.name ?? 'Local workspace';
  $('channel-link').textContent = `# ${st.channel.name}`;
  $('channel-title').textContent = `# ${st.channel.name}`;
  $('thread-channel').textContent = `# ${st.channel.name}`;
  const sel = $('user-select');
  sel.replaceChildren(
    ...S.users.map((u) => {
      const o = document.createElement('option');
      o.value = u.id;
      o.textContent = `${u.name} (${u.id})`;
      o.selected = u.id === S.me;
      return o;
    }),
  );
  S.messages.clear();
  for (const m of st.messages) S.messages.set(m.ts, m);
  for (const list of Object.values(st.threads)) for (const m of list) S.messages.set(m.ts, m);
  for (const m of st.ephemerals) S.messages.set(m.ts, m);
  renderPanels();
  render();
}

function connect() {
  S.es?.close();
  const es = new EventSource(`/api/events?user=${encodeURIComponent(S.me)}`);
  S.es = es;
  es.addEventListener('hello', () => {
    $('connection').textContent = 'live';
    // (Re)connected: catch up with whatever happened meanwhile.
    loadState().catch((e) => notice(String(e.message ?? e), 'error'));
  });
  es.addEventListener('message', (ev) => {
    const { kind, message } = JSON.parse(ev.data);
    if (kind === 'deleted') S.messages.delete(message.ts);
    else S.messages.set(message.ts, message);
    render();
  });
  es.addEventListener('panels', (ev) => {
    S.panels = JSON.parse(ev.data);
    renderPanels();
  });
  es.addEventListener('notice', (ev) => {
    const n = JSON.parse(ev.data);
    notice(n.text, n.level);
  });
  es.onerror = () => {
    $('connection').textContent = 'reconnecting…';
  };
}

// ---- rendering ---------------------------------------------------------------------------------------------------

const byTs = (a, b) => Number(a.ts) - Number(b.ts) || a.ts.localeCompare(b.ts);
const isTop = (m) => m.threadTs === undefined || m.threadTs === m.ts;

const rendered = new WeakMap();

/** Keyed update: a message element is replaced only when its HTML changed (edits update in place). */
function renderList(container, messages, ctx) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const existing = new Map([...container.children].map((el) => [el.dataset.ts, el]));
  const next = messages.map((m) => {
    const html = messageHtml(m, ctx);
    const old = existing.get(m.ts);
    if (old && rendered.get(old) === html) return old;
    const tpl = document.createElement('template');
    tpl.innerHTML = html; // escaped by blocks.js / mrkdwn.js
    const el = tpl.content.firstElementChild;
    rendered.set(el, html);
    return el;
  });
  container.replaceChildren(...next);
  return nearBottom;
}

function render() {
  const ctx = { users: S.directory, channels: S.channels };
  const chan = $('channel-messages');
  const top = [...S.messages.values()].filter(isTop).sort(byTs);
  let list = chan.querySelector('.message-list');
  if (!list) {
    list = document.createElement('div');
    list.className = 'message-list';
    chan.append(list);
  }
  let empty = chan.querySelector('.empty');
  if (top.length === 0 && !empty) {
    empty = document.createElement('div');
    empty.className = 'empty';
    empty.textContent = 'Nothing here yet. Try /rollout web-farm v2 (or /rollout help).';
    chan.prepend(empty);
  } else if (top.length > 0) empty?.remove();
  if (renderList(list, top, ctx)) chan.scrollTop = chan.scrollHeight;

  if (S.openThread !== null) {
    const root = S.messages.get(S.openThread);
    if (!root) {
      closeThread();
      return;
    }
    const replies = [...S.messages.values()]
      .filter((m) => m.threadTs === S.openThread && m.ts !== S.openThread)
      .sort(byTs);
    renderList($('thread-root'), [root], { ...ctx, inThread: true });
    const pane = $('thread-messages');
    if (renderList($('thread-replies'), replies, { ...ctx, inThread: true })) pane.scrollTop = pane.scrollHeight;
  }
}

function renderPanels() {
  const box = $('panels');
  const sections = Object.entries(S.panels ?? {}).map(([title, value]) => {
    let body;
    const flat =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value).every((v) => v === null || typeof v !== 'object');
    if (flat) {
      body = `<table>${Object.entries(value)
        .map(
          ([k, v]) => `<tr data-key="${escapeHtml(k)}"><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`,
        )
        .join('')}</table>`;
    } else if (value !== null && typeof value === 'object') {
      body = `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
    } else {
      body = `<div>${plainTextToHtml(String(value))}</div>`;
    }
    return `<div class="panel" data-panel="${escapeHtml(title)}"><div class="panel-title">${escapeHtml(title)}</div>${body}</div>`;
  });
  box.innerHTML = sections.join(''); // escaped above
}

// ---- threads -----------------------------------------------------------------------------------------------------

function openThread(ts) {
  S.openThread = ts;
  $('thread-pane').hidden = false;
  $('thread-root').replaceChildren();
  $('thread-replies').replaceChildren();
  render();
  $('thread-composer').focus();
}

function closeThread() {
  S.openThread = null;
  $('thread-pane').hidden = true;
}

// ---- confirm dialog ----------------------------------------------------------------------------------------------

function confirmDialog(confirm) {
  const dlg = $('confirm-dialog');
  const ctx = { users: S.directory, channels: S.channels };
  $('confirm-title').innerHTML = plainTextToHtml(confirm.title?.text ?? 'Are you sure?');
  $('confirm-text').innerHTML = textObjectToHtml(confirm.text ?? { type: 'plain_text', text: '' }, ctx);
  $('confirm-ok').innerHTML = plainTextToHtml(confirm.confirm?.text ?? 'Yes');
  $('confirm-deny').innerHTML = plainTextToHtml(confirm.deny?.text ?? 'Cancel');
  $('confirm-ok').classList.toggle('danger', confirm.style === 'danger');
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'confirm'), { once: true });
    dlg.showModal();
  });
}

// ---- events ------------------------------------------------------------------------------------------------------

async function clickButton(btn) {
  const msg = btn.closest('.msg');
  if (!msg) return;
  if (btn.dataset.url) window.open(btn.dataset.url, '_blank', 'noopener');
  if (btn.dataset.confirm) {
    let confirm;
    try {
      confirm = JSON.parse(btn.dataset.confirm);
    } catch {
      confirm = {};
    }
    if (!(await confirmDialog(confirm))) return;
  }
  btn.disabled = true;
  try {
    const r = await post('/api/action', {
      messageTs: msg.dataset.ts,
      channel: S.channel.id,
      actionId: btn.dataset.actionId,
      blockId: btn.dataset.blockId,
      value: btn.dataset.value,
      ...(msg.dataset.threadTs ? { threadTs: msg.dataset.threadTs } : {}),
    });
    if (!r.ok) notice(`The bot answered ${r.status || r.error}`, 'error');
  } catch (e) {
    notice(String(e.message ?? e), 'error');
  } finally {
    btn.disabled = false;
  }
}

document.addEventListener('click', (ev) => {
  const target = ev.target instanceof window.Element ? ev.target : null;
  const btn = target?.closest('button.bk-button');
  if (btn) {
    ev.preventDefault();
    void clickButton(btn);
    return;
  }
  const open = target?.closest('[data-open-thread]');
  if (open) {
    openThread(open.dataset.openThread);
    return;
  }
  if (target?.closest('#thread-close')) closeThread();
});

function composer(form, input, status, send) {
  const submit = async () => {
    const text = input.value.trim();
    if (text === '') return;
    input.disabled = true;
    status.textContent = `Sending ${text.startsWith('/') ? text.split(/\s/)[0] : 'message'}…`;
    try {
      await send(text);
      input.value = '';
      status.textContent = 'Sent.';
    } catch (e) {
      status.textContent = 'Not sent.';
      notice(String(e.message ?? e), 'error');
    } finally {
      input.disabled = false;
      input.focus();
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submit();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      void submit();
    }
  });
}

composer($('composer-form'), $('composer'), $('composer-status'), async (text) => {
  if (text.startsWith('/')) {
    const r = await post('/api/command', { text });
    if (!r.ok) throw new Error(`${text.split(/\s/)[0]} failed: the bot answered ${r.status || r.error}`);
  } else {
    await post('/api/reply', { text });
  }
});
composer($('thread-composer-form'), $('thread-composer'), $('thread-composer-status'), async (text) => {
  if (S.openThread === null) throw new Error('no thread open');
  await post('/api/reply', { text, threadTs: S.openThread });
});

$('user-select').addEventListener('change', (ev) => {
  S.me = ev.target.value;
  localStorage.setItem('rollout-console-user', S.me);
  connect();
});

connect();
