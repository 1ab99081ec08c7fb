/**
 * The local console: a Slack-like web page for one channel of the Slack stand-in, with a small JSON + SSE API.
 *
 * The page shows what the stand-in recorded (the bot's messages, threads, ephemerals, edits) live, and every
 * command, click and reply typed there reaches the bot as a request built and SIGNED exactly as Slack would send
 * it (dev/signing.ts), so the console exercises the bot's production code paths.
 *
 *   GET  /                 the page (page.html + page.js, mrkdwn.js, blocks.js as ES modules; no build step)
 *   GET  /api/state?user=  channel messages, threads and the user's ephemerals, users, side panels
 *   GET  /api/events?user= Server-Sent Events: `message` ({kind, message}), `panels`, `notice`
 *   POST /api/command      {text, user?}                        → signed slash command
 *   POST /api/action       {messageTs, channel?, actionId, blockId, value?, threadTs?, user?} → signed block_actions
 *   POST /api/reply        {threadTs?, text, user?}             → recorded + signed `message` (+ `app_mention`) event
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serveHttp } from '../http';
import {
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  blockActionsBody,
  eventCallbackBody,
  postSigned,
  slashCommandBody,
} from '../signing';
import type { MessageChange, SlackStandin, StandinMessage } from '../standin/server';

export interface ConsoleUser {
  id: string;
  name: string;
}

export interface ConsoleOptions {
  standin: SlackStandin;
  /** The bot's Events/interactivity/commands URL, e.g. `http://127.0.0.1:3000/slack/events`. */
  botEventsUrl: string;
  signingSecret: string;
  channel: { id: string; name: string };
  /** The console's human (the default selection). */
  user: ConsoleUser;
  /** Other people the page can switch to (the selector); `user` is always first. */
  users?: ConsoleUser[];
  /** Default: the stand-in's team id. */
  teamId?: string;
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Extra side panels (e.g. which version each demo server answers with); polled while a page is open. */
  extraPanels?: () => Promise<Record<string, unknown>>;
  /** How often extraPanels is polled while pages are connected (default 2000 ms). */
  panelsIntervalMs?: number;
  /** How long the bot may take to answer a request (Slack gives up after 3 s; default 10 s, generous for dev). */
  botTimeoutMs?: number;
}

export interface ConsoleHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A message as the page sees it. */
export interface ConsoleMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  userName: string;
  isBot: boolean;
  text?: string;
  blocks?: unknown[];
  ephemeral: boolean;
  edited: boolean;
  replyCount: number;
  source: StandinMessage['source'];
}

/** What a request to the bot came back with (shown by the page when it is not a plain 200). */
export interface BotReply {
  ok: boolean;
  status: number;
  body: string;
  ms: number;
  error?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'page.html', type: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/mrkdwn.js': { file: 'mrkdwn.js', type: 'text/javascript; charset=utf-8' },
  '/blocks.js': { file: 'blocks.js', type: 'text/javascript; charset=utf-8' },
};

const HERE = fileURLToPath(new URL('.', import.meta.url));

function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Slack escapes these three in what a person types. */
function escapeTyped(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleHandle> {
  const { standin, channel, signingSecret, botEventsUrl } = options;
  const teamId = options.teamId ?? standin.team.id;
  const botTimeoutMs = options.botTimeoutMs ?? 10_000;
  const selectable: ConsoleUser[] = [options.user];
  for (const u of options.users ?? []) if (!selectable.some((s) => s.id === u.id)) selectable.push(u);
  // The console's people exist in the workspace (users.info works for them).
  for (const u of selectable) if (!standin.users.has(u.id)) standin.users.set(u.id, { id: u.id, name: u.name });
  let seq = 0;

  const directory = (): Record<string, string> => {
    const d: Record<string, string> = {};
    for (const u of standin.users.values()) d[u.id] = u.display_name ?? u.name;
    for (const u of selectable) d[u.id] = u.name;
    d[standin.bot.user_id] = standin.bot.name;
    return d;
  };
  const channelDirectory = (): Record<string, string> => {
    const d: Record<string, string> = {};
    for (const c of standin.channels.values()) d[c.id] = c.name;
    d[channel.id] = channel.name;
    return d;
  };
  const userOf = (id: unknown): ConsoleUser => {
    if (id === undefined || id === null || id === '') return options.user;
    const u = selectable.find((s) => s.id === id);
    if (u === undefined) throw new HttpError(400, `unknown user ${String(id)}`);
    return u;
  };

  const isBotMessage = (m: StandinMessage) => m.bot_id !== undefined || m.user === standin.bot.user_id;
  const visibleTo = (m: StandinMessage, user: string) => !m.ephemeral || m.ephemeralUser === user;
  const view = (m: StandinMessage): ConsoleMessage => {
    const names = directory();
    return {
      channel: m.channel,
      ts: m.ts,
      ...(m.thread_ts !== undefined ? { threadTs: m.thread_ts } : {}),
      user: m.user,
      userName: isBotMessage(m) ? standin.bot.name : (names[m.user] ?? m.user),
      isBot: isBotMessage(m),
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ephemeral: m.ephemeral,
      edited: m.edited !== undefined,
      replyCount: m.reply_count ?? 0,
      source: m.source,
    };
  };

  // ---- panels -----------------------------------------------------------------------------------------------
  let panels: Record<string, unknown> = {};
  let panelsJson = '{}';
  const refreshPanels = async (): Promise<boolean> => {
    if (options.extraPanels === undefined) return false;
    let next: Record<string, unknown>;
    try {
      next = await options.extraPanels();
    } catch (e) {
      next = { 'Panel error': (e as Error).message };
    }
    const json = JSON.stringify(next);
    if (json === panelsJson) return false;
    panels = next;
    panelsJson = json;
    return true;
  };

  // ---- SSE ----------------------------------------------------------------------------------------------------
  interface Client {
    res: ServerResponse;
    user: string;
  }
  const clients = new Set<Client>();
  const sse = (c: Client, event: string, data: unknown) => {
    c.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown, filter: (c: Client) => boolean = () => true) => {
    for (const c of clients) if (filter(c)) sse(c, event, data);
  };
  const notice = (level: 'info' | 'error', text: string, user?: string) =>
    broadcast('notice', { level, text }, (c) => user === undefined || c.user === user);

  const unsubscribe = [
    standin.on('message', (change: MessageChange) => {
      const m = change.message;
      if (m.channel !== channel.id) return;
      const payload = { kind: change.kind, message: view(m) };
      broadcast('message', payload, (c) => visibleTo(m, c.user));
      // A new reply changes its root's reply count.
      if (change.kind === 'posted' && m.thread_ts !== undefined && m.thread_ts !== m.ts && !m.ephemeral) {
        const root = standin.message(channel.id, m.thread_ts);
        if (root !== undefined)
          broadcast('message', { kind: 'updated', message: view(root) }, (c) => visibleTo(root, c.user));
      }
    }),
    standin.on('refusal', (r) =>
      notice(
        'error',
        `The stand-in refused the bot's ${r.method}: ${r.error}${r.problems.length ? ` (${r.problems.slice(0, 3).join('; ')})` : ''}`,
      ),
    ),
    standin.on('response', (r) => {
      if ((r.outcome === 'failed' || r.outcome === 'refused') && r.context.channel === channel.id) {
        notice('error', `A response_url post failed: ${r.error ?? r.outcome}`, r.context.user);
      }
    }),
    standin.on('view', (v) => {
      const title = (v.view.title as { text?: string } | undefined)?.text ?? v.id;
      notice('info', `The bot opened a modal "${title}" (modals are not shown by the console).`);
    }),
  ];

  const panelTimer = setInterval(() => {
    if (clients.size === 0 || options.extraPanels === undefined) return;
    void refreshPanels().then((changed) => {
      if (changed) broadcast('panels', panels);
    });
  }, options.panelsIntervalMs ?? 2000);
  panelTimer.unref();
  const keepAlive = setInterval(() => {
    for (const c of clients) c.res.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  // ---- requests to the bot -------------------------------------------------------------------------------------
  async function toBot(body: string, contentType: string): Promise<BotReply> {
    const started = Date.now();
    try {
      const res = await postSigned(botEventsUrl, body, contentType, signingSecret, {
        signal: AbortSignal.timeout(botTimeoutMs),
      });
      const text = await res.text();
      return { ok: res.ok, status: res.status, body: text, ms: Date.now() - started };
    } catch (e) {
      return { ok: false, status: 0, body: '', ms: Date.now() - started, error: (e as Error).message };
    }
  }

  const state = async (user: string) => {
    const all = standin.channelMessages(channel.id).filter((m) => visibleTo(m, user));
    const isTop = (m: StandinMessage) => m.thread_ts === undefined || m.thread_ts === m.ts;
    const threads: Record<string, ConsoleMessage[]> = {};
    for (const m of all) {
      if (m.ephemeral || isTop(m)) continue;
      (threads[m.thread_ts!] ??= []).push(view(m));
    }
    if (options.extraPanels !== undefined && clients.size === 0) await refreshPanels();
    return {
      team: { id: teamId, name: standin.team.name, domain: standin.team.domain },
      channel,
      bot: { id: standin.bot.user_id, name: standin.bot.name },
      me: userOf(user),
      users: selectable,
      directory: directory(),
      channels: channelDirectory(),
      messages: all.filter((m) => !m.ephemeral && isTop(m)).map(view),
      threads,
      ephemerals: all.filter((m) => m.ephemeral).map(view),
      panels,
    };
  };

  async function command(input: Record<string, unknown>): Promise<BotReply> {
    const user = userOf(input.user);
    const typed = (str(input.text) ?? '').trim();
    const m = /^(\/\S+)\s*([\s\S]*)$/.exec(typed);
    if (m === null) throw new HttpError(400, 'a slash command starts with /');
    const id = `console-cmd-${++seq}-${randomBytes(4).toString('hex')}`;
    const responseUrl = standin.responseUrlFor(id, { channel: channel.id, user: user.id });
    const body = slashCommandBody({
      command: m[1]!,
      text: m[2] ?? '',
      user_id: user.id,
      user_name: user.name,
      channel_id: channel.id,
      channel_name: channel.name,
      team_id: teamId,
      team_domain: standin.team.domain,
      api_app_id: standin.bot.app_id,
      response_url: responseUrl,
    });
    const reply = await toBot(body, FORM_CONTENT_TYPE);
    if (reply.ok && reply.body.trim() !== '') {
      // Slack shows a slash command's ack body (ack('text') / ack({ blocks })) to the user, as a respond() would.
      let message: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(reply.body);
        message =
          typeof parsed === 'object' && parsed !== null
            ? (parsed as Record<string, unknown>)
            : { text: String(parsed) };
      } catch {
        message = { text: reply.body };
      }
      await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': JSON_CONTENT_TYPE },
        body: JSON.stringify(message),
      }).catch(() => undefined);
    }
    if (!reply.ok) {
      notice(
        'error',
        `${m[1]} failed with the error "dispatch_failed" (bot answered ${reply.status || reply.error})`,
        user.id,
      );
    }
    return reply;
  }

  type Element = Record<string, unknown> & {
    action_id?: string;
    type?: string;
    text?: { text?: string };
    style?: string;
    value?: string;
  };
  function findElement(blocks: unknown[] | undefined, blockId: string, actionId: string): Element | undefined {
    for (const [i, b] of (blocks ?? []).entries()) {
      const block = b as { block_id?: string; elements?: unknown[]; accessory?: unknown };
      if ((block.block_id ?? `console-block-${i}`) !== blockId && blockId !== '') continue;
      const els = [...(block.elements ?? []), ...(block.accessory !== undefined ? [block.accessory] : [])] as Element[];
      const el = els.find((e) => e.action_id === actionId);
      if (el !== undefined) return el;
    }
    return undefined;
  }

  async function action(input: Record<string, unknown>): Promise<BotReply> {
    const user = userOf(input.user);
    const ts = str(input.messageTs);
    const actionId = str(input.actionId);
    if (ts === undefined || actionId === undefined) throw new HttpError(400, 'messageTs and actionId are required');
    const ch = str(input.channel) ?? channel.id;
    const m = standin.message(ch, ts);
    if (m === undefined) throw new HttpError(404, `no message ${ts} in ${ch}`);
    const blockId = str(input.blockId) ?? '';
    const el = findElement(m.blocks, blockId, actionId);
    const threadTs = m.thread_ts ?? str(input.threadTs);
    const id = `console-act-${++seq}-${randomBytes(4).toString('hex')}`;
    const responseUrl = standin.responseUrlFor(id, {
      channel: ch,
      user: user.id,
      messageTs: ts,
      ...(threadTs !== undefined ? { threadTs } : {}),
    });
    const style = el?.style === 'primary' || el?.style === 'danger' ? el.style : undefined;
    const body = blockActionsBody({
      user: { id: user.id, username: user.name, name: user.name, team_id: teamId },
      channel: { id: ch, name: standin.channels.get(ch)?.name ?? channel.name },
      ...(m.ephemeral
        ? {
            // Slack sends no message for a click in an ephemeral message, only the container.
            container: {
              type: 'message',
              message_ts: ts,
              channel_id: ch,
              is_ephemeral: true,
              ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
            },
          }
        : {
            message: {
              ts,
              ...(m.text !== undefined ? { text: m.text } : {}),
              ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
              ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
              user: m.user,
              ...(m.bot_id !== undefined ? { bot_id: m.bot_id } : {}),
            },
          }),
      actions: [
        {
          action_id: actionId,
          block_id: blockId,
          ...(el?.type !== undefined ? { type: el.type } : {}),
          ...((el?.value ?? str(input.value)) !== undefined ? { value: el?.value ?? str(input.value) } : {}),
          ...(el?.text?.text !== undefined ? { text: el.text.text } : {}),
          ...(style !== undefined ? { style } : {}),
        },
      ],
      response_url: responseUrl,
      team_id: teamId,
      team_domain: standin.team.domain,
      api_app_id: standin.bot.app_id,
    });
    const reply = await toBot(body, FORM_CONTENT_TYPE);
    if (!reply.ok) notice('error', `The bot did not accept the click (${reply.status || reply.error})`, user.id);
    return reply;
  }

  /** `@name` typed for a known person or the bot becomes a mention, as Slack's composer does. */
  function encodeTyped(text: string): string {
    const names = Object.entries(directory()).sort((a, b) => b[1].length - a[1].length);
    return escapeTyped(text)
      .replace(/&lt;(@[UW][A-Z0-9]+)&gt;/g, '<$1>')
      .replace(/(^|[\s(])@([\w.-]+)/g, (whole, pre: string, typed: string) => {
        const hit = names.find(([, n]) => n.toLowerCase() === typed.toLowerCase());
        return hit ? `${pre}<@${hit[0]}>` : whole;
      });
  }

  async function reply(input: Record<string, unknown>): Promise<{ ts: string; bot: BotReply[] }> {
    const user = userOf(input.user);
    const raw = str(input.text);
    if (raw === undefined || raw.trim() === '') throw new HttpError(400, 'text is required');
    const threadTs = str(input.threadTs);
    const text = encodeTyped(raw);
    const m = standin.postUserMessage(channel.id, user.id, text, threadTs !== undefined ? { thread_ts: threadTs } : {});
    const root = m.thread_ts !== undefined ? standin.message(channel.id, m.thread_ts) : undefined;
    const base = {
      user: user.id,
      text,
      ts: m.ts,
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts, parent_user_id: root?.user } : {}),
      channel: channel.id,
      event_ts: m.ts,
      team: teamId,
      client_msg_id: randomBytes(16).toString('hex'),
    };
    const opts = { team_id: teamId, api_app_id: standin.bot.app_id, bot_user_id: standin.bot.user_id };
    const results: BotReply[] = [];
    results.push(
      await toBot(eventCallbackBody({ type: 'message', channel_type: 'channel', ...base }, opts), JSON_CONTENT_TYPE),
    );
    if (text.includes(`<@${standin.bot.user_id}>`)) {
      results.push(await toBot(eventCallbackBody({ type: 'app_mention', ...base }, opts), JSON_CONTENT_TYPE));
    }
    const bad = results.find((r) => !r.ok);
    if (bad) notice('error', `The bot did not accept the event (${bad.status || bad.error})`, user.id);
    return { ts: m.ts, bot: results };
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------------
  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    // JSON only: a cross-site form post cannot send application/json without a CORS preflight.
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'send application/json');
    const raw = await readBody(req);
    let parsed: unknown;
    try {
      parsed = raw.trim() === '' ? {} : JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new HttpError(400, 'expected an object');
    return parsed as Record<string, unknown>;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const st = STATIC[path];
    if (st !== undefined && (method === 'GET' || method === 'HEAD')) {
      const content = await readFile(`${HERE}${st.file}`);
      res.writeHead(200, {
        'content-type': st.type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...(path === '/'
          ? { 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" }
          : {}),
      });
      res.end(method === 'HEAD' ? undefined : content);
      return;
    }
    if (method === 'GET' && path === '/api/state') {
      // Fresh panels in every state: a page that loads its state after a panels broadcast (or in the middle of
      // one) must not keep an older view that the server believes it already has.
      if (await refreshPanels()) broadcast('panels', panels);
      sendJson(res, 200, await state(userOf(url.searchParams.get('user')).id));
      return;
    }
    if (method === 'GET' && path === '/api/panels') {
      await refreshPanels();
      sendJson(res, 200, panels);
      return;
    }
    if (method === 'GET' && path === '/api/events') {
      const user = userOf(url.searchParams.get('user')).id;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      const client: Client = { res, user };
      clients.add(client);
      sse(client, 'hello', { user });
      req.on('close', () => clients.delete(client));
      return;
    }
    if (method === 'POST' && path === '/api/command') {
      sendJson(res, 200, await command(await readJson(req)));
      return;
    }
    if (method === 'POST' && path === '/api/action') {
      sendJson(res, 200, await action(await readJson(req)));
      return;
    }
    if (method === 'POST' && path === '/api/reply') {
      sendJson(res, 200, await reply(await readJson(req)));
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }

  const http = await serveHttp(
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        if (res.headersSent) return void res.end();
        if (e instanceof HttpError) sendJson(res, e.status, { error: e.message });
        else sendJson(res, 500, { error: String(e) });
      });
    },
    { host: options.host, port: options.port },
  );

  return {
    url: `${http.origin}/`,
    port: http.port,
    close() {
      clearInterval(panelTimer);
      clearInterval(keepAlive);
      for (const off of unsubscribe) off();
      for (const c of clients) c.res.end();
      clients.clear();
      return http.close();
    },
  };
}
