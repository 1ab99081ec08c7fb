// The Slack stand-in's public types: its options, what it records (calls, messages, refusals, response URL posts,
// views, Socket Mode envelopes) and the handle startSlackStandin returns.

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
  { error: 'ratelimited'; retryAfterSec: number } | { status: number; body?: string } | { error: string };

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
  socketSend(
    type: 'slash_commands' | 'interactive' | 'events_api' | (string & {}),
    payload: Record<string, unknown>,
    opts?: SocketSendOptions,
  ): Promise<SocketAck>;
  /** Socket Mode: send `{ type: 'disconnect', reason }` to every open connection (the app should reconnect). */
  socketDisconnect(reason?: string): void;
  /** Forget messages, calls, refusals, responses, views, envelopes and queued failures. */
  reset(): void;
  close(): Promise<void>;
}
