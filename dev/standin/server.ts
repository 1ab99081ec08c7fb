/**
 * A local stand-in for Slack's Web API, response URLs and Socket Mode, on a plain node:http server.
 *
 * Point a WebClient (or a Bolt app's `clientOptions.slackApiUrl`) at `standin.url`; put
 * `standin.responseUrlFor(id, { channel, user })` in the payloads you send to the app. The stand-in keeps
 * the channels' messages (with threads, edits and ephemeral messages), records every call, refuses what
 * Slack would refuse (see blockKit.ts) and can inject failures (`failNext`).
 *
 * The parts: store.ts (messages), webApi.ts (methods), responseUrls.ts, faults.ts (failNext), socketMode.ts,
 * calls.ts and refusals.ts (what was recorded); this file routes requests to them and builds the handle.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { serveHttp } from '../http';
import { createCallLog } from './calls';
import { createEmitter } from './events';
import { createFaults } from './faults';
import { send } from './protocol';
import { createRefusals } from './refusals';
import { createResponseUrls } from './responseUrls';
import { createSocketMode } from './socketMode';
import { createMessageStore } from './store';
import type { OpenedView, SlackStandin, SlackStandinOptions } from './types';
import { createWebApi } from './webApi';

export type {
  FailSpec,
  MessageChange,
  MessageVersion,
  OpenedView,
  RecordedCall,
  RecordedResponse,
  Refusal,
  ResponseUrlContext,
  SlackStandin,
  SlackStandinOptions,
  SocketAck,
  SocketEnvelope,
  SocketSendOptions,
  StandinChannel,
  StandinEvents,
  StandinMessage,
  StandinUser,
  StandinUsergroup,
} from './types';

export async function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  const team = { name: 'Local', ...(options.team ?? { id: 'T0LOCAL', domain: 'local' }) };
  const bot = options.bot ?? { user_id: 'U0LOCALBOT', bot_id: 'B0LOCALBOT', app_id: 'A0LOCAL', name: 'rollout' };
  const users = new Map((options.users ?? []).map((u) => [u.id, u] as const));
  const usergroups = new Map((options.usergroups ?? []).map((g) => [g.id, g] as const));
  const channels = new Map((options.channels ?? []).map((c) => [c.id, c] as const));
  const views: OpenedView[] = [];

  const emitter = createEmitter();
  const store = createMessageStore(bot, emitter);
  const calls = createCallLog(emitter);
  const refusals = createRefusals(emitter);
  const faults = createFaults();
  const socket = createSocketMode(bot.app_id, emitter);
  const responseUrls = createResponseUrls({
    maxUses: options.responseUrlMaxUses ?? 5,
    bot,
    store,
    refusals,
    faults,
    calls,
    emitter,
  });
  let origin = ''; // known once listening
  const webApi = createWebApi({
    options,
    team,
    bot,
    users,
    usergroups,
    channels,
    strictChannels: options.strictChannels ?? options.channels !== undefined,
    store,
    refusals,
    faults,
    calls,
    views,
    emitter,
    openSocketUrl: () => `${origin.replace(/^http:/, 'ws:')}${socket.openTicket()}`,
  });

  const http = await serveHttp(
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://standin.invalid');
      const done = (p: Promise<void>) =>
        p.catch((e: unknown) => {
          if (!res.headersSent)
            send(res, { status: 500, body: { ok: false, error: 'internal_error', detail: String(e) } });
        });
      if (url.pathname.startsWith('/api/')) {
        void done(webApi.handle(req, res, decodeURIComponent(url.pathname.slice('/api/'.length)), url.searchParams));
      } else if (url.pathname.startsWith('/response/') && req.method === 'POST') {
        void done(responseUrls.handle(req, res, decodeURIComponent(url.pathname.slice('/response/'.length))));
      } else {
        send(res, { status: 404, body: { ok: false, error: 'not_found' } });
      }
    },
    { host: options.host, port: options.port },
  );
  origin = http.origin;
  http.server.on('upgrade', (req: IncomingMessage, sock: Duplex, head: Buffer) => socket.upgrade(req, sock, head));

  return {
    url: `${origin}/api/`,
    port: http.port,
    responseUrlFor(id, context = {}) {
      responseUrls.register(id, context);
      return `${origin}/response/${encodeURIComponent(id)}`;
    },
    calls: calls.calls,
    messages: store.messages,
    refusals: refusals.refusals,
    responses: responseUrls.responses,
    views,
    users,
    usergroups,
    channels,
    team,
    bot,
    channelMessages: (channel) => [...(store.messages.get(channel) ?? [])],
    message: (channel, ts) => store.find(channel, ts),
    thread: (channel, threadTs) => store.thread(channel, threadTs),
    postUserMessage: (channel, user, text, opts = {}) =>
      store.post(channel, { text, ...(opts.thread_ts ? { thread_ts: opts.thread_ts } : {}) }, { source: 'user', user }),
    failNext: (method, spec) => faults.failNext(method, spec),
    on(event, cb) {
      const listener = cb as (arg: unknown) => void;
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
    waitForCall: (match, timeoutMs = 5000) => calls.waitForCall(match, timeoutMs),
    envelopes: socket.envelopes,
    get socketConnections() {
      return socket.connections;
    },
    waitForSocket: (timeoutMs = 5000) => socket.waitForSocket(timeoutMs),
    socketSend: (type, payload, opts = {}) => socket.send(type, payload, opts),
    socketDisconnect: (reason = 'refresh_requested') => socket.disconnect(reason),
    reset() {
      socket.envelopes.length = 0;
      calls.calls.length = 0;
      store.messages.clear();
      refusals.refusals.length = 0;
      responseUrls.clear();
      views.length = 0;
      faults.clear();
    },
    close() {
      socket.close();
      return http.close();
    },
  };
}
