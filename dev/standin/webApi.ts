// The Web API methods the bot uses (chat.*, views.open, users.*, usergroups.*, conversations.*, auth.test,
// apps.connections.open), behind Slack's token checks and fault injection, each call recorded.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallLog } from './calls';
import { failureAnswer, type Faults } from './faults';
import {
  blocksParam,
  bool,
  contentTypeOf,
  parseForm,
  readBody,
  send,
  SlackApiError,
  str,
  type ApiAnswer,
  type Params,
} from './protocol';
import type { Refusals } from './refusals';
import type { MessageStore } from './store';
import { validateView } from './blockKit';
import type {
  FailSpec,
  OpenedView,
  SlackStandinOptions,
  StandinChannel,
  StandinMessage,
  StandinUser,
  StandinUsergroup,
} from './types';

export interface WebApiDeps {
  options: Pick<SlackStandinOptions, 'tokens' | 'appTokens'>;
  team: { id: string; domain: string; name: string };
  bot: { user_id: string; bot_id: string; app_id: string; name: string };
  users: Map<string, StandinUser>;
  usergroups: Map<string, StandinUsergroup>;
  channels: Map<string, StandinChannel>;
  /** Refuse channels not in `channels` with `channel_not_found`. */
  strictChannels: boolean;
  store: MessageStore;
  refusals: Refusals;
  faults: Faults;
  calls: CallLog;
  views: OpenedView[];
  emitter: EventEmitter;
  /** A one-use Socket Mode WebSocket URL (what apps.connections.open answers). */
  openSocketUrl(): string;
}

export interface WebApi {
  /** Answers one call of `method` (the path after `/api/`); `query` is the URL's query string. */
  handle(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams): Promise<void>;
}

export function createWebApi(deps: WebApiDeps): WebApi {
  const {
    options,
    team,
    bot,
    users,
    usergroups,
    channels,
    strictChannels,
    store,
    refusals,
    faults,
    calls,
    views,
    emitter,
    openSocketUrl,
  } = deps;
  let viewSeq = 0;

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
    'apps.connections.open': () => ({ url: openSocketUrl() }),
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
      refusals.checkMessage('chat.postMessage', p, p.text, p.blocks);
      const m = store.post(
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
      const m = store.find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      if (m.user !== bot.user_id) throw new SlackApiError('cant_update_message');
      // Slack keeps the previous text/blocks when a field is left out.
      const text = p.text !== undefined ? str(p.text) : undefined;
      const blocks = p.blocks !== undefined ? p.blocks : undefined;
      refusals.checkMessage('chat.update', p, text ?? m.text, blocks ?? m.blocks);
      store.edit(m, text, blocksParam(blocks), bot.user_id);
      return { channel, ts, text: m.text ?? '', message: messageJson(m) };
    },
    'chat.postEphemeral': (p) => {
      const channel = requireChannel(p, { post: true });
      const user = str(p.user);
      if (user === undefined || user === '') throw new SlackApiError('user_not_found');
      if (users.size > 0 && !users.has(user)) throw new SlackApiError('user_not_found');
      const members = channels.get(channel)?.members;
      if (members !== undefined && !members.includes(user)) throw new SlackApiError('user_not_in_channel');
      refusals.checkMessage('chat.postEphemeral', p, p.text, p.blocks);
      const m = store.post(
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
      const m = store.find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      if (m.user !== bot.user_id) throw new SlackApiError('cant_delete_message');
      store.remove(m);
      return { channel, ts };
    },
    'chat.getPermalink': (p) => {
      const channel = requireChannel(p);
      const ts = str(p.message_ts) ?? '';
      const m = store.find(channel, ts, { ephemeral: false });
      if (m === undefined) throw new SlackApiError('message_not_found');
      const base = `https://${team.domain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
      const permalink =
        m.thread_ts !== undefined && m.thread_ts !== m.ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}` : base;
      return { channel, permalink };
    },
    'views.open': (p) => {
      const trigger = str(p.trigger_id);
      if (trigger === undefined || trigger === '') throw new SlackApiError('invalid_arguments');
      if (typeof p.view !== 'object' || p.view === null) throw new SlackApiError('invalid_arguments');
      const problems = validateView(p.view);
      if (problems.length > 0) refusals.refuse('views.open', p, problems, 'invalid_arguments');
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
      const all = (store.messages.get(channel) ?? []).filter((m) => !m.ephemeral);
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
      const top = (store.messages.get(channel) ?? [])
        .filter((m) => !m.ephemeral && (m.thread_ts === undefined || m.thread_ts === m.ts))
        .filter(
          (m) => latest === undefined || (inclusive ? Number(m.ts) <= Number(latest) : Number(m.ts) < Number(latest)),
        )
        .filter(
          (m) => oldest === undefined || (inclusive ? Number(m.ts) >= Number(oldest) : Number(m.ts) > Number(oldest)),
        )
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

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams) {
    const raw = await readBody(req);
    const contentType = contentTypeOf(req);
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
      const bearer =
        auth !== undefined && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
      // Slack ignores a token inside a JSON body; form bodies and query strings may carry it.
      const bodyToken = contentType === 'application/json' ? str(query.get('token')) : str(params.token);
      token = bearer || bodyToken || undefined;
      delete params.token;

      injected = faults.take(method);
      if (injected !== undefined) {
        answer = failureAnswer(injected);
      } else {
        const impl = methods[method];
        if (impl === undefined) throw new SlackApiError('unknown_method');
        if (token === undefined) throw new SlackApiError('not_authed');
        if (method === 'apps.connections.open') {
          if (!token.startsWith('xapp-')) throw new SlackApiError('not_allowed_token_type');
          if (options.appTokens !== undefined && !options.appTokens.includes(token))
            throw new SlackApiError('invalid_auth');
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
    calls.record({
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

  return { handle: handleApi };
}
