/**
 * A local stand-in for Slack's Web API and response URLs, on a plain node:http server.
 *
 * Point a WebClient (or a Bolt app's `clientOptions.slackApiUrl`) at `standin.url`; put
 * `standin.responseUrlFor(id, { channel, user })` in the payloads you send to the app. The stand-in keeps
 * the channels' messages (with threads, edits and ephemeral messages), records every call, refuses what
 * Slack would refuse (see blockKit.ts) and can inject failures (`failNext`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { validateMessage, validateView } from './blockKit.js';

// ---------------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------------

export interface StandinUser {
  id: string;
  name: string;
  real_name?: string;
  display_name?: string;
  email?: string;
  tz?: string;
  is_bot?: boolean;
  is_admin?: boolean;
  deleted?: boolean;
}

export interface StandinUsergroup {
  id: string;
  handle?: string;
  name?: string;
  users: string[];
}

export interface StandinChannel {
  id: string;
  name: string;
  is_private?: boolean;
  /** Whether the bot is in the channel (default true); posting to a channel it is not in → `not_in_channel`. */
  is_member?: boolean;
  /** When given, chat.postEphemeral to a user outside it → `user_not_in_channel`. */
  members?: string[];
}

export interface SlackStandinOptions {
  port?: number;
  host?: '127.0.0.1' | (string & {});
  /** Accepted tokens; when omitted any non-empty token is accepted. A wrong one → `invalid_auth`. */
  tokens?: string[];
  team?: { id: string; domain: string; name?: string };
  bot?: { user_id: string; bot_id: string; app_id: string; name: string };
  users?: StandinUser[];
  usergroups?: StandinUsergroup[];
  channels?: StandinChannel[];
  /** Refuse channels not in `channels` with `channel_not_found`. Default: true when `channels` is given. */
  strictChannels?: boolean;
  /** How many times one response URL may be used (Slack: 5). */
  responseUrlMaxUses?: number;
  /**
   * App-level tokens `apps.connections.open` accepts (Socket Mode). When omitted any `xapp-` token is accepted;
   * a token that is not an `xapp-` one → `not_allowed_token_type`, an unknown one → `invalid_auth`.
   */
  appTokens?: string[];
}

/** A Socket Mode envelope the stand-in pushed, with the app's acknowledgement once it came. */
export interface SocketEnvelope {
  envelope_id: string;
  type: string;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  sentAt: number;
  /** The ack `{ envelope_id, payload? }` as the app sent it. */
  ack?: SocketAck;
  ackedAt?: number;
}

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface SocketSendOptions {
  /** Reject when no ack came within this time (default 3000 ms). */
  timeoutMs?: number;
  /** Default: true for `slash_commands`, false otherwise (as Slack sends them for block_actions and events). */
  acceptsResponsePayload?: boolean;
}

export type FailSpec =
  | { error: 'ratelimited'; retryAfterSec: number }
  | { status: number; body?: string }
  | { error: string };

export interface RecordedCall {
  seq: number;
  at: number;
  /** Web API method, or `response_url` for posts to a response URL. */
  method: string;
  /** Set for response URL posts. */
  responseId?: string;
  httpMethod: string;
  contentType: string;
  token?: string;
  params: Record<string, unknown>;
  status: number;
  response: unknown;
  /** Set when the answer came from `failNext`. */
  injected?: FailSpec;
}

export interface MessageVersion {
  text?: string;
  blocks?: unknown[];
  /** When this version was replaced (a ts-like string). */
  replacedAt: string;
}

export interface StandinMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  /** Author: the bot user for API and response URL messages, the human for `source: 'user'`. */
  user: string;
  bot_id?: string;
  ephemeral: boolean;
  /** For ephemeral messages: the only user who sees it. */
  ephemeralUser?: string;
  /** `user`: a human's message recorded with `postUserMessage` (e.g. typed in the local console). */
  source: 'api' | 'response_url' | 'user';
  edited?: { user: string; ts: string };
  /** Previous versions, oldest first. */
  history: MessageVersion[];
  reply_count?: number;
  reply_broadcast?: boolean;
  metadata?: unknown;
}

export interface Refusal {
  at: number;
  method: string;
  error: string;
  problems: string[];
  params: Record<string, unknown>;
}

export interface ResponseUrlContext {
  channel?: string;
  user?: string;
  /** The message the interaction came from (lets `replace_original` / `delete_original` work). */
  messageTs?: string;
  threadTs?: string;
}

export interface RecordedResponse {
  id: string;
  at: number;
  context: ResponseUrlContext;
  body: Record<string, unknown>;
  outcome: 'posted' | 'replaced' | 'deleted' | 'refused' | 'failed';
  message?: StandinMessage;
  error?: string;
}

export interface OpenedView {
  id: string;
  trigger_id: string;
  view: Record<string, unknown>;
  at: number;
}

export interface MessageChange {
  kind: 'posted' | 'updated' | 'deleted';
  message: StandinMessage;
}

export interface StandinEvents {
  call: RecordedCall;
  message: MessageChange;
  refusal: Refusal;
  response: RecordedResponse;
  view: OpenedView;
  socket: SocketEnvelope;
}

export interface SlackStandin {
  /** Base URL for `slackApiUrl`; ends with `/api/`. */
  readonly url: string;
  readonly port: number;
  /** Register (or re-register) a response URL with its context and return it. */
  responseUrlFor(id: string, context?: ResponseUrlContext): string;
  readonly calls: RecordedCall[];
  /** channel id → messages in post order (thread replies included; see `thread()`). */
  readonly messages: Map<string, StandinMessage[]>;
  readonly refusals: Refusal[];
  readonly responses: RecordedResponse[];
  readonly views: OpenedView[];
  readonly users: Map<string, StandinUser>;
  readonly usergroups: Map<string, StandinUsergroup>;
  readonly channels: Map<string, StandinChannel>;
  readonly team: { id: string; domain: string; name: string };
  readonly bot: { user_id: string; bot_id: string; app_id: string; name: string };
  /** Messages of a channel (copy of the list). */
  channelMessages(channel: string): StandinMessage[];
  /** One message (ephemeral included) by channel and ts. */
  message(channel: string, ts: string): StandinMessage | undefined;
  /** Parent and replies of a thread, in order. */
  thread(channel: string, threadTs: string): StandinMessage[];
  /**
   * Record a message a human typed (no bot_id; `source: 'user'`), top-level or in a thread, as Slack would store
   * it before delivering the `message` event. `text` is taken as is (already mrkdwn-escaped by the caller).
   */
  postUserMessage(channel: string, user: string, text: string, opts?: { thread_ts?: string }): StandinMessage;
  /** Queue a failure for the next call of `method` (`response_url` for response URL posts). */
  failNext(method: string, spec: FailSpec): void;
  on<K extends keyof StandinEvents>(event: K, cb: (arg: StandinEvents[K]) => void): () => void;
  /** Resolve with the first call (already recorded or future) matching; reject after `timeoutMs`. */
  waitForCall(match: string | ((c: RecordedCall) => boolean), timeoutMs?: number): Promise<RecordedCall>;
  /** Socket Mode: envelopes pushed with `socketSend`, acks included. */
  readonly envelopes: SocketEnvelope[];
  /** Socket Mode: WebSocket connections currently open (hello sent). */
  readonly socketConnections: number;
  /** Socket Mode: resolve once at least one app connection is open (hello sent); reject after `timeoutMs`. */
  waitForSocket(timeoutMs?: number): Promise<void>;
  /**
   * Socket Mode: push an envelope `{ envelope_id, type, payload, accepts_response_payload }` to the newest open
   * connection; resolve with the app's ack, reject when none comes within `timeoutMs` or there is no connection.
   */
  socketSend(type: 'slash_commands' | 'interactive' | 'events_api' | (string & {}), payload: Record<string, unknown>, opts?: SocketSendOptions): Promise<SocketAck>;
  /** Socket Mode: send `{ type: 'disconnect', reason }` to every open connection (the app should reconnect). */
  socketDisconnect(reason?: string): void;
  /** Forget messages, calls, refusals, responses, views, envelopes and queued failures. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------------------------

type Params = Record<string, unknown>;

interface ApiAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: Record<string, unknown> | string;
}

class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

/** Form fields Slack (and @slack/web-api) send as JSON strings. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view', 'unfurls', 'user_auth_blocks']);

function parseForm(raw: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k) && /^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // keep the string; validation will complain
      }
    }
    out[k] = v;
  }
  return out;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  const isText = typeof answer.body === 'string';
  const payload = isText ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status ?? 200, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...answer.headers,
  });
  res.end(payload);
}

export async function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  const host = options.host ?? '127.0.0.1';
  const team = { name: 'Local', ...(options.team ?? { id: 'T0LOCAL', domain: 'local' }) };
  const bot = options.bot ?? { user_id: 'U0LOCALBOT', bot_id: 'B0LOCALBOT', app_id: 'A0LOCAL', name: 'rollout' };
  const maxUses = options.responseUrlMaxUses ?? 5;
  const strictChannels = options.strictChannels ?? options.channels !== undefined;

  const users = new Map((options.users ?? []).map((u) => [u.id, u] as const));
  const usergroups = new Map((options.usergroups ?? []).map((g) => [g.id, g] as const));
  const channels = new Map((options.channels ?? []).map((c) => [c.id, c] as const));

  const calls: RecordedCall[] = [];
  const messages = new Map<string, StandinMessage[]>();
  const refusals: Refusal[] = [];
  const responses: RecordedResponse[] = [];
  const views: OpenedView[] = [];
  const failures = new Map<string, FailSpec[]>();
  const responseUrls = new Map<string, { context: ResponseUrlContext; uses: number }>();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let seq = 0;
  let lastMicros = 0;
  let viewSeq = 0;

  function nextTs(): string {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  }

  function list(channel: string): StandinMessage[] {
    let l = messages.get(channel);
    if (l === undefined) {
      l = [];
      messages.set(channel, l);
    }
    return l;
  }

  function find(channel: string, ts: string, opts: { ephemeral?: boolean } = {}): StandinMessage | undefined {
    return messages
      .get(channel)
      ?.find((m) => m.ts === ts && (opts.ephemeral === undefined || m.ephemeral === opts.ephemeral));
  }

  function remove(m: StandinMessage): void {
    const l = messages.get(m.channel);
    const i = l?.indexOf(m) ?? -1;
    if (l !== undefined && i >= 0) l.splice(i, 1);
    emitter.emit('message', { kind: 'deleted', message: m } satisfies MessageChange);
  }

  function refuse(method: string, params: Params, problems: string[], error?: string): never {
    const err =
      error ??
      (problems.some((p) => p.startsWith('message: needs'))
        ? 'no_text'
        : problems.every((p) => p.startsWith('text:'))
          ? 'msg_too_long'
          : 'invalid_blocks');
    const refusal: Refusal = { at: Date.now(), method, error: err, problems, params };
    refusals.push(refusal);
    emitter.emit('refusal', refusal);
    throw new SlackApiError(err, { errors: problems, response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } });
  }

  function checkMessage(method: string, params: Params, text: unknown, blocks: unknown): void {
    const problems = validateMessage({ text, blocks });
    if (problems.length > 0) refuse(method, params, problems);
  }

  function requireChannel(params: Params, opts: { post?: boolean } = {}): string {
    const channel = str(params.channel);
    if (channel === undefined || channel === '') throw new SlackApiError('channel_not_found');
    const known = channels.get(channel);
    if (known === undefined && strictChannels) throw new SlackApiError('channel_not_found');
    if (opts.post && known !== undefined && known.is_member === false) throw new SlackApiError('not_in_channel');
    return channel;
  }

  function messageJson(m: StandinMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: m.user,
      bot_id: m.bot_id,
      ...(m.bot_id !== undefined ? { app_id: bot.app_id } : {}),
      team: team.id,
      ts: m.ts,
      text: m.text ?? '',
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
      ...(m.edited !== undefined ? { edited: m.edited } : {}),
      ...(m.metadata !== undefined ? { metadata: m.metadata } : {}),
    };
  }

  function post(
    channel: string,
    body: { text?: string; blocks?: unknown[]; thread_ts?: string; metadata?: unknown; reply_broadcast?: boolean },
    extra: { ephemeralUser?: string; source: 'api' | 'response_url' | 'user'; user?: string },
  ): StandinMessage {
    let threadTs = body.thread_ts;
    if (threadTs !== undefined) {
      const parent = find(channel, threadTs, { ephemeral: false });
      if (parent?.thread_ts !== undefined && parent.thread_ts !== parent.ts) threadTs = parent.thread_ts;
      const root = find(channel, threadTs, { ephemeral: false });
      if (root !== undefined && extra.ephemeralUser === undefined) {
        root.thread_ts ??= root.ts;
        root.reply_count = (root.reply_count ?? 0) + 1;
      }
    }
    const m: StandinMessage = {
      channel,
      ts: nextTs(),
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      ...(body.text !== undefined ? { text: body.text } : {}),
      ...(body.blocks !== undefined ? { blocks: body.blocks } : {}),
      user: extra.user ?? bot.user_id,
      ...(extra.user === undefined ? { bot_id: bot.bot_id } : {}),
      ephemeral: extra.ephemeralUser !== undefined,
      ...(extra.ephemeralUser !== undefined ? { ephemeralUser: extra.ephemeralUser } : {}),
      source: extra.source,
      history: [],
      ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
      ...(body.reply_broadcast ? { reply_broadcast: true } : {}),
    };
    list(channel).push(m);
    emitter.emit('message', { kind: 'posted', message: m } satisfies MessageChange);
    return m;
  }

  function edit(m: StandinMessage, text: string | undefined, blocks: unknown[] | undefined, by: string): void {
    const replacedAt = nextTs();
    m.history.push({
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      replacedAt,
    });
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = blocks;
    m.edited = { user: by, ts: replacedAt };
    emitter.emit('message', { kind: 'updated', message: m } satisfies MessageChange);
  }

  function blocksParam(v: unknown): unknown[] | undefined {
    return Array.isArray(v) ? v : undefined;
  }

  function userJson(u: StandinUser): Record<string, unknown> {
    return {
      id: u.id,
      team_id: team.id,
      name: u.name,
      deleted: u.deleted ?? false,
      real_name: u.real_name ?? u.name,
      tz: u.tz ?? 'Etc/UTC',
      is_admin: u.is_admin ?? false,
      is_bot: u.is_bot ?? false,
      profile: {
        real_name: u.real_name ?? u.name,
        display_name: u.display_name ?? u.name,
        ...(u.email !== undefined ? { email: u.email } : {}),
      },
    };
  }

  const methods: Record<string, (p: Params) => Record<string, unknown>> = {
    'api.test': (p) => ({ args: p }),
    // Socket Mode: a one-use WebSocket URL on this server (the token check is in handleApi).
    'apps.connections.open': () => {
      const ticket = randomBytes(12).toString('hex');
      socketTickets.add(ticket);
      return { url: `${wsOrigin()}/socket?ticket=${ticket}&app_id=${bot.app_id}` };
    },
    'auth.test': () => ({
      url: `https://${team.domain}.slack.com/`,
      team: team.name,
      user: bot.name,
      team_id: team.id,
      user_id: bot.user_id,
      bot_id: bot.bot_id,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (p) => {
      const channel = requireChannel(p, { post: true });
      checkMessage('chat.postMessage', p, p.text, p.blocks);
      const m = post(
        channel,
        {
          ...(str(p.text) !== undefined ? { text: str(p.text) } : {}),
          ...(blocksParam(p.blocks) !== undefined ? { blocks: blocksParam(p.blocks) } : {}),
          ...(str(p.thread_ts) ? { thread_ts: str(p.thread_ts) } : {}),
          ...(p.metadata !== undefined ? { metadata: p.metadata } : {}),
          reply_broadcast: bool(p.reply_broadcast),
        },
        { source: 'api' },
      );
      return { channel, ts: m.ts, message: messageJson(m) };
    },
    'chat.update': (p) => {
      const channel = requireChannel(p);
      const ts = str(p.ts);
      if (ts === undefined) throw new SlackApiError('message_not_found');
      const m = find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      if (m.user !== bot.user_id) throw new SlackApiError('cant_update_message');
      // Slack keeps the previous text/blocks when a field is left out.
      const text = p.text !== undefined ? str(p.text) : undefined;
      const blocks = p.blocks !== undefined ? p.blocks : undefined;
      checkMessage('chat.update', p, text ?? m.text, blocks ?? m.blocks);
      edit(m, text, blocksParam(blocks), bot.user_id);
      return { channel, ts, text: m.text ?? '', message: messageJson(m) };
    },
    'chat.postEphemeral': (p) => {
      const channel = requireChannel(p, { post: true });
      const user = str(p.user);
      if (user === undefined || user === '') throw new SlackApiError('user_not_found');
      if (users.size > 0 && !users.has(user)) throw new SlackApiError('user_not_found');
      const members = channels.get(channel)?.members;
      if (members !== undefined && !members.includes(user)) throw new SlackApiError('user_not_in_channel');
      checkMessage('chat.postEphemeral', p, p.text, p.blocks);
      const m = post(
        channel,
        {
          ...(str(p.text) !== undefined ? { text: str(p.text) } : {}),
          ...(blocksParam(p.blocks) !== undefined ? { blocks: blocksParam(p.blocks) } : {}),
          ...(str(p.thread_ts) ? { thread_ts: str(p.thread_ts) } : {}),
        },
        { source: 'api', ephemeralUser: user },
      );
      return { message_ts: m.ts };
    },
    'chat.delete': (p) => {
      const channel = requireChannel(p);
      const ts = str(p.ts) ?? '';
      const m = find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      if (m.user !== bot.user_id) throw new SlackApiError('cant_delete_message');
      remove(m);
      return { channel, ts };
    },
    'chat.getPermalink': (p) => {
      const channel = requireChannel(p);
      const ts = str(p.message_ts) ?? '';
      const m = find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      const base = `https://${team.domain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
      const permalink =
        m.thread_ts !== undefined && m.thread_ts !== m.ts
          ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}`
          : base;
      return { channel, permalink };
    },
    'views.open': (p) => {
      const trigger = str(p.trigger_id);
      if (trigger === undefined || trigger === '') throw new SlackApiError('invalid_arguments');
      if (typeof p.view !== 'object' || p.view === null) throw new SlackApiError('invalid_arguments');
      const problems = validateView(p.view);
      if (problems.length > 0) refuse('views.open', p, problems, 'invalid_arguments');
      const id = `V0LOCAL${String(++viewSeq).padStart(4, '0')}`;
      const view = {
        id,
        team_id: team.id,
        app_id: bot.app_id,
        bot_id: bot.bot_id,
        state: { values: {} },
        hash: `${Date.now()}.${id}`,
        ...(p.view as Record<string, unknown>),
      };
      const opened: OpenedView = { id, trigger_id: trigger, view, at: Date.now() };
      views.push(opened);
      emitter.emit('view', opened);
      return { view };
    },
    'users.info': (p) => {
      const u = users.get(str(p.user) ?? '');
      if (u === undefined) throw new SlackApiError('user_not_found');
      return { user: userJson(u) };
    },
    'usergroups.users.list': (p) => {
      const g = usergroups.get(str(p.usergroup) ?? '');
      if (g === undefined) throw new SlackApiError('no_such_subteam');
      return { users: [...g.users] };
    },
    'usergroups.list': () => ({
      usergroups: [...usergroups.values()].map((g) => ({
        id: g.id,
        team_id: team.id,
        handle: g.handle ?? g.id,
        name: g.name ?? g.handle ?? g.id,
        user_count: g.users.length,
      })),
    }),
    // Threads and history, as the bot reads them (metadata included, as with include_all_metadata=true).
    'conversations.replies': (p) => {
      const channel = requireChannel(p);
      const ts = str(p.ts) ?? '';
      const all = (messages.get(channel) ?? []).filter((m) => !m.ephemeral);
      const parent = all.find((m) => m.ts === ts);
      if (parent === undefined) throw new SlackApiError('thread_not_found');
      const rootTs = parent.thread_ts ?? parent.ts;
      const limit = Math.max(1, Math.min(Number(str(p.limit) ?? 1000) || 1000, 1000));
      const thread = all.filter((m) => m.ts === rootTs || m.thread_ts === rootTs).slice(0, limit);
      return { messages: thread.map(messageJson), has_more: false };
    },
    'conversations.history': (p) => {
      const channel = requireChannel(p);
      const latest = str(p.latest);
      const oldest = str(p.oldest);
      const inclusive = bool(p.inclusive);
      const limit = Math.max(1, Math.min(Number(str(p.limit) ?? 100) || 100, 1000));
      const top = (messages.get(channel) ?? [])
        .filter((m) => !m.ephemeral && (m.thread_ts === undefined || m.thread_ts === m.ts))
        .filter((m) => latest === undefined || (inclusive ? Number(m.ts) <= Number(latest) : Number(m.ts) < Number(latest)))
        .filter((m) => oldest === undefined || (inclusive ? Number(m.ts) >= Number(oldest) : Number(m.ts) > Number(oldest)))
        .reverse()
        .slice(0, limit);
      return { messages: top.map(messageJson), has_more: false };
    },
    'conversations.info': (p) => {
      const c = channels.get(str(p.channel) ?? '');
      if (c === undefined) throw new SlackApiError('channel_not_found');
      return {
        channel: {
          id: c.id,
          name: c.name,
          is_channel: !c.is_private,
          is_group: false,
          is_im: false,
          is_private: c.is_private ?? false,
          is_archived: false,
          is_member: c.is_member ?? true,
          ...(c.members !== undefined ? { num_members: c.members.length } : {}),
        },
      };
    },
  };

  function takeFailure(method: string): FailSpec | undefined {
    const q = failures.get(method);
    const f = q?.shift();
    if (q !== undefined && q.length === 0) failures.delete(method);
    return f;
  }

  function failureAnswer(f: FailSpec): ApiAnswer {
    if ('retryAfterSec' in f) {
      return {
        status: 429,
        headers: { 'retry-after': String(f.retryAfterSec) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    if ('status' in f) return { status: f.status, body: f.body ?? 'Internal Server Error' };
    return { body: { ok: false, error: f.error } };
  }

  function record(c: Omit<RecordedCall, 'seq' | 'at'>): void {
    const call: RecordedCall = { seq: ++seq, at: Date.now(), ...c };
    calls.push(call);
    emitter.emit('call', call);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams) {
    const raw = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let params: Params = {};
    let answer: ApiAnswer;
    let token: string | undefined;
    let injected: FailSpec | undefined;
    try {
      for (const [k, v] of query) params[k] = v;
      if (contentType === 'application/json') {
        if (raw.trim() !== '') {
          const parsed: unknown = JSON.parse(raw);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw new SlackApiError('invalid_json');
          }
          params = { ...params, ...(parsed as Params) };
        }
      } else if (raw !== '') {
        params = { ...params, ...parseForm(raw) };
      }
      const auth = req.headers.authorization;
      const bearer = auth !== undefined && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
      // Slack ignores a token inside a JSON body; form bodies and query strings may carry it.
      const bodyToken = contentType === 'application/json' ? str(query.get('token')) : str(params.token);
      token = bearer || bodyToken || undefined;
      delete params.token;

      injected = takeFailure(method);
      if (injected !== undefined) {
        answer = failureAnswer(injected);
      } else {
        const impl = methods[method];
        if (impl === undefined) throw new SlackApiError('unknown_method');
        if (token === undefined) throw new SlackApiError('not_authed');
        if (method === 'apps.connections.open') {
          if (!token.startsWith('xapp-')) throw new SlackApiError('not_allowed_token_type');
          if (options.appTokens !== undefined && !options.appTokens.includes(token)) throw new SlackApiError('invalid_auth');
        } else if (options.tokens !== undefined && !options.tokens.includes(token)) {
          throw new SlackApiError('invalid_auth');
        }
        answer = { body: { ok: true, ...impl(params) } };
      }
    } catch (e) {
      if (e instanceof SlackApiError) answer = { body: { ok: false, error: e.error, ...e.extra } };
      else if (e instanceof SyntaxError) answer = { body: { ok: false, error: 'invalid_json' } };
      else answer = { status: 500, body: { ok: false, error: 'internal_error', detail: String(e) } };
    }
    send(res, answer);
    record({
      method,
      httpMethod: req.method ?? 'POST',
      contentType,
      ...(token !== undefined ? { token } : {}),
      params,
      status: answer.status ?? 200,
      response: answer.body,
      ...(injected !== undefined ? { injected } : {}),
    });
  }

  function handleResponseUrl(id: string, body: Params): ApiAnswer & { outcome?: RecordedResponse } {
    const entry = responseUrls.get(id);
    if (entry === undefined) return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (entry.uses >= maxUses) return { status: 404, body: { ok: false, error: 'used_url' } };
    entry.uses++;
    const ctx = entry.context;
    const base = { id, at: Date.now(), context: ctx, body };
    const original = ctx.channel !== undefined && ctx.messageTs !== undefined ? find(ctx.channel, ctx.messageTs) : undefined;

    if (bool(body.delete_original)) {
      if (original === undefined) {
        return { status: 404, body: { ok: false, error: 'message_not_found' }, outcome: { ...base, outcome: 'failed', error: 'message_not_found' } };
      }
      remove(original);
      return { body: { ok: true }, outcome: { ...base, outcome: 'deleted', message: original } };
    }
    const problems = validateMessage({ text: body.text, blocks: body.blocks });
    if (problems.length > 0) {
      try {
        refuse('response_url', body, problems);
      } catch (e) {
        const err = e instanceof SlackApiError ? e.error : 'invalid_blocks';
        return { status: 400, body: { ok: false, error: err, errors: problems }, outcome: { ...base, outcome: 'refused', error: err } };
      }
    }
    const text = str(body.text);
    const blocks = blocksParam(body.blocks);
    if (bool(body.replace_original) && original !== undefined) {
      edit(original, text ?? '', blocks ?? [], bot.user_id);
      return { body: { ok: true }, outcome: { ...base, outcome: 'replaced', message: original } };
    }
    if (ctx.channel === undefined) {
      return { status: 404, body: { ok: false, error: 'channel_not_found' }, outcome: { ...base, outcome: 'failed', error: 'channel_not_found' } };
    }
    const inChannel = body.response_type === 'in_channel';
    if (!inChannel && ctx.user === undefined) {
      return { status: 404, body: { ok: false, error: 'user_not_found' }, outcome: { ...base, outcome: 'failed', error: 'user_not_found' } };
    }
    const threadTs = str(body.thread_ts) ?? ctx.threadTs;
    const m = post(
      ctx.channel,
      {
        ...(text !== undefined ? { text } : {}),
        ...(blocks !== undefined ? { blocks } : {}),
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      },
      { source: 'response_url', ...(inChannel ? {} : { ephemeralUser: ctx.user }) },
    );
    return { body: { ok: true }, outcome: { ...base, outcome: 'posted', message: m } };
  }

  async function handleResponse(req: IncomingMessage, res: ServerResponse, id: string) {
    const raw = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let body: Params = {};
    let answer: ApiAnswer & { outcome?: RecordedResponse };
    const injected = takeFailure('response_url');
    try {
      if (contentType === 'application/x-www-form-urlencoded') {
        const form = parseForm(raw);
        body = typeof form.payload === 'string' ? (JSON.parse(form.payload) as Params) : form;
      } else {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Params);
      }
      answer = injected !== undefined ? failureAnswer(injected) : handleResponseUrl(id, body);
    } catch {
      answer = { status: 400, body: { ok: false, error: 'invalid_json' } };
    }
    send(res, { status: answer.status ?? 200, body: answer.body, ...(answer.headers ? { headers: answer.headers } : {}) });
    if (answer.outcome !== undefined) {
      responses.push(answer.outcome);
      emitter.emit('response', answer.outcome);
    }
    record({
      method: 'response_url',
      responseId: id,
      httpMethod: req.method ?? 'POST',
      contentType,
      params: body,
      status: answer.status ?? 200,
      response: answer.body,
      ...(injected !== undefined ? { injected } : {}),
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Socket Mode: a minimal RFC 6455 server (text frames, ping → pong, close handshake; no extensions).
  // -------------------------------------------------------------------------------------------------------------
  const socketTickets = new Set<string>();
  const sockets: Socket[] = [];
  const envelopes: SocketEnvelope[] = [];
  const pendingAcks = new Map<string, { resolve: (a: SocketAck) => void; envelope: SocketEnvelope }>();
  let envelopeSeq = 0;
  let wsOrigin = (): string => '';

  function wsFrame(opcode: number, data: Buffer): Buffer {
    const len = data.length;
    let head: Buffer;
    if (len < 126) {
      head = Buffer.from([0x80 | opcode, len]);
    } else if (len < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    return Buffer.concat([head, data]);
  }

  function wsSendText(sock: Socket, text: string): void {
    if (!sock.destroyed) sock.write(wsFrame(0x1, Buffer.from(text, 'utf8')));
  }

  function dropSocket(sock: Socket): void {
    const i = sockets.indexOf(sock);
    if (i >= 0) sockets.splice(i, 1);
    if (!sock.destroyed) sock.destroy();
  }

  function onSocketText(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const ack = msg as SocketAck;
    const pending = typeof ack.envelope_id === 'string' ? pendingAcks.get(ack.envelope_id) : undefined;
    if (pending === undefined) return;
    pendingAcks.delete(ack.envelope_id);
    pending.envelope.ack = ack;
    pending.envelope.ackedAt = Date.now();
    emitter.emit('socket', pending.envelope);
    pending.resolve(ack);
  }

  function acceptSocket(req: IncomingMessage, sock: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://standin.invalid');
    const ticket = url.searchParams.get('ticket') ?? '';
    const key = req.headers['sec-websocket-key'];
    if (url.pathname !== '/socket' || !socketTickets.delete(ticket) || typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      sock.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    sock.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sock.setNoDelay(true);
    let buf: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
    let fragments: Buffer[] = [];
    let fragmentOp = 0;
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        const b0 = buf[0]!;
        const b1 = buf[1]!;
        const fin = (b0 & 0x80) !== 0;
        const op = b0 & 0x0f;
        const masked = (b1 & 0x80) !== 0;
        let len = b1 & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const maskOff = off;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        const data = Buffer.from(buf.subarray(off, off + len));
        if (masked) for (let i = 0; i < data.length; i++) data[i]! ^= buf[maskOff + (i % 4)]!;
        buf = buf.subarray(off + len);
        if (op === 0x8) {
          // Close: answer with the same code, then end.
          if (!sock.destroyed) sock.end(wsFrame(0x8, data.subarray(0, 2)));
          dropSocket(sock);
          return;
        } else if (op === 0x9) {
          if (!sock.destroyed) sock.write(wsFrame(0xa, data));
        } else if (op === 0xa) {
          // pong: nothing to do
        } else if (op === 0x1 || op === 0x2 || op === 0x0) {
          if (op !== 0x0) fragmentOp = op;
          fragments.push(data);
          if (fin) {
            const whole = Buffer.concat(fragments);
            fragments = [];
            if (fragmentOp === 0x1) onSocketText(whole.toString('utf8'));
          }
        }
      }
    };
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      parse();
    });
    sock.on('close', () => dropSocket(sock));
    sock.on('error', () => dropSocket(sock));
    sockets.push(sock);
    wsSendText(
      sock,
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.length,
        debug_info: { host: 'applink-standin', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: bot.app_id },
      }),
    );
    emitter.emit('socketOpen');
    parse();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin.invalid');
    const done = (p: Promise<void>) =>
      p.catch((e: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: { ok: false, error: 'internal_error', detail: String(e) } });
      });
    if (url.pathname.startsWith('/api/')) {
      void done(handleApi(req, res, decodeURIComponent(url.pathname.slice('/api/'.length)), url.searchParams));
    } else if (url.pathname.startsWith('/response/') && req.method === 'POST') {
      void done(handleResponse(req, res, decodeURIComponent(url.pathname.slice('/response/'.length))));
    } else {
      send(res, { status: 404, body: { ok: false, error: 'not_found' } });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  wsOrigin = () => origin.replace(/^http:/, 'ws:');
  server.on('upgrade', (req: IncomingMessage, sock: Socket, head: Buffer) => acceptSocket(req, sock, head));

  const standin: SlackStandin = {
    url: `${origin}/api/`,
    port,
    responseUrlFor(id, context = {}) {
      const prev = responseUrls.get(id);
      responseUrls.set(id, { context, uses: prev?.uses ?? 0 });
      return `${origin}/response/${encodeURIComponent(id)}`;
    },
    calls,
    messages,
    refusals,
    responses,
    views,
    users,
    usergroups,
    channels,
    team,
    bot,
    channelMessages: (channel) => [...(messages.get(channel) ?? [])],
    message: (channel, ts) => find(channel, ts),
    thread: (channel, threadTs) =>
      (messages.get(channel) ?? []).filter((m) => m.ts === threadTs || m.thread_ts === threadTs),
    postUserMessage: (channel, user, text, opts = {}) =>
      post(channel, { text, ...(opts.thread_ts ? { thread_ts: opts.thread_ts } : {}) }, { source: 'user', user }),
    failNext(method, spec) {
      const q = failures.get(method) ?? [];
      q.push(spec);
      failures.set(method, q);
    },
    on(event, cb) {
      const listener = cb as (arg: unknown) => void;
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
    waitForCall(match, timeoutMs = 5000) {
      const pred = typeof match === 'string' ? (c: RecordedCall) => c.method === match : match;
      const already = calls.find(pred);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          emitter.off('call', listener);
          reject(new Error(`slack stand-in: no matching call within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (c: RecordedCall) => {
          if (!pred(c)) return;
          clearTimeout(timer);
          emitter.off('call', listener);
          resolve(c);
        };
        emitter.on('call', listener);
      });
    },
    envelopes,
    get socketConnections() {
      return sockets.length;
    },
    waitForSocket(timeoutMs = 5000) {
      if (sockets.length > 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          emitter.off('socketOpen', listener);
          reject(new Error(`slack stand-in: no Socket Mode connection within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = () => {
          clearTimeout(timer);
          emitter.off('socketOpen', listener);
          resolve();
        };
        emitter.on('socketOpen', listener);
      });
    },
    socketSend(type, payload, opts = {}) {
      const sock = sockets[sockets.length - 1];
      if (sock === undefined) return Promise.reject(new Error('slack stand-in: no Socket Mode connection'));
      const envelope: SocketEnvelope = {
        envelope_id: `${randomBytes(4).toString('hex')}-${++envelopeSeq}`,
        type,
        payload,
        accepts_response_payload: opts.acceptsResponsePayload ?? type === 'slash_commands',
        sentAt: Date.now(),
      };
      envelopes.push(envelope);
      const timeoutMs = opts.timeoutMs ?? 3000;
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingAcks.delete(envelope.envelope_id);
          reject(new Error(`slack stand-in: no ack for ${type} envelope ${envelope.envelope_id} within ${timeoutMs} ms`));
        }, timeoutMs);
        pendingAcks.set(envelope.envelope_id, {
          envelope,
          resolve: (a) => {
            clearTimeout(timer);
            resolve(a);
          },
        });
        wsSendText(
          sock,
          JSON.stringify({
            envelope_id: envelope.envelope_id,
            type,
            payload,
            accepts_response_payload: envelope.accepts_response_payload,
            ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
          }),
        );
      });
    },
    socketDisconnect(reason = 'refresh_requested') {
      for (const sock of sockets) {
        wsSendText(sock, JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
      }
    },
    reset() {
      envelopes.length = 0;
      calls.length = 0;
      messages.clear();
      refusals.length = 0;
      responses.length = 0;
      views.length = 0;
      failures.clear();
      responseUrls.clear();
    },
    close() {
      for (const sock of [...sockets]) dropSocket(sock);
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return standin;
}
