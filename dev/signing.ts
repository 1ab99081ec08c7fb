/**
 * Build and sign the requests Slack sends to an app (slash commands, block actions, Events API), so tests and
 * the local console can drive a real Bolt app without Slack.
 *
 * Signing scheme (v0): `x-slack-signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<raw body>")>`,
 * `x-slack-request-timestamp: <ts in seconds>`. Bolt refuses timestamps older than 5 minutes.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const JSON_CONTENT_TYPE = 'application/json';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const ts = String(Math.floor(timestampSec));
  const hex = createHmac('sha256', signingSecret).update(`v0:${ts}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${hex}`, 'x-slack-request-timestamp': ts };
}

/** Defaults used when a builder's input leaves an id out. */
export const PAYLOAD_DEFAULTS = {
  team_id: 'T0LOCAL',
  team_domain: 'local',
  api_app_id: 'A0LOCAL',
  /** Legacy verification token; Bolt ignores it when verifying signatures. */
  token: 'local-verification-token',
} as const;

function randomId(prefix: string, bytes = 8): string {
  return `${prefix}${randomBytes(bytes).toString('hex').toUpperCase()}`;
}

/** A trigger id shaped like Slack's (`<digits>.<digits>.<hex>`). */
export function newTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  const us = Date.now() * 1000;
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

export interface SlashCommandInput {
  command: string;
  text?: string;
  user_id: string;
  user_name?: string;
  channel_id: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  response_url: string;
  trigger_id?: string;
  api_app_id?: string;
  enterprise_id?: string;
  enterprise_name?: string;
  is_enterprise_install?: boolean;
}

/** Form-encoded body of a slash command, as Slack posts it. */
export function slashCommandBody(input: SlashCommandInput): string {
  const fields: Record<string, string> = {
    token: PAYLOAD_DEFAULTS.token,
    team_id: input.team_id ?? PAYLOAD_DEFAULTS.team_id,
    team_domain: input.team_domain ?? PAYLOAD_DEFAULTS.team_domain,
    channel_id: input.channel_id,
    channel_name: input.channel_name ?? 'local',
    user_id: input.user_id,
    user_name: input.user_name ?? input.user_id,
    command: input.command.startsWith('/') ? input.command : `/${input.command}`,
    text: input.text ?? '',
    api_app_id: input.api_app_id ?? PAYLOAD_DEFAULTS.api_app_id,
    is_enterprise_install: String(input.is_enterprise_install ?? false),
    response_url: input.response_url,
    trigger_id: input.trigger_id ?? newTriggerId(),
  };
  if (input.enterprise_id !== undefined) fields.enterprise_id = input.enterprise_id;
  if (input.enterprise_name !== undefined) fields.enterprise_name = input.enterprise_name;
  return new URLSearchParams(fields).toString();
}

export interface BlockActionInput {
  action_id: string;
  block_id: string;
  value?: string;
  /** Element type; default `button`. */
  type?: string;
  /** Button label; default derived from action_id. */
  text?: string;
  selected_option?: { text: { type: 'plain_text'; text: string }; value: string };
  style?: 'primary' | 'danger';
}

export interface BlockActionsInput {
  user: string | { id: string; username?: string; name?: string; team_id?: string };
  channel: string | { id: string; name?: string };
  /** The message holding the clicked element (omit for clicks in a view). */
  message?: { ts: string; text?: string; blocks?: unknown[]; thread_ts?: string; user?: string; bot_id?: string };
  actions: BlockActionInput[];
  response_url: string;
  trigger_id?: string;
  /** Defaults to `{ type: 'message', message_ts, channel_id, is_ephemeral: false }` built from message/channel. */
  container?: Record<string, unknown>;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  state?: { values: Record<string, Record<string, unknown>> };
}

/** The JSON payload of a `block_actions` interaction, shaped like Slack's. */
export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const teamId = input.team_id ?? PAYLOAD_DEFAULTS.team_id;
  const user = typeof input.user === 'string' ? { id: input.user } : input.user;
  const channel = typeof input.channel === 'string' ? { id: input.channel } : input.channel;
  const container =
    input.container ??
    (input.message !== undefined
      ? {
          type: 'message',
          message_ts: input.message.ts,
          channel_id: channel.id,
          is_ephemeral: false,
          ...(input.message.thread_ts !== undefined ? { thread_ts: input.message.thread_ts } : {}),
        }
      : { type: 'message', channel_id: channel.id, is_ephemeral: true });
  const ts = actionTs();
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: {
      id: user.id,
      username: user.username ?? user.name ?? user.id,
      name: user.name ?? user.username ?? user.id,
      team_id: user.team_id ?? teamId,
    },
    api_app_id: input.api_app_id ?? PAYLOAD_DEFAULTS.api_app_id,
    token: PAYLOAD_DEFAULTS.token,
    container,
    trigger_id: input.trigger_id ?? newTriggerId(),
    team: { id: teamId, domain: input.team_domain ?? PAYLOAD_DEFAULTS.team_domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel.id, name: channel.name ?? 'local' },
    state: input.state ?? { values: {} },
    response_url: input.response_url,
    actions: input.actions.map((a) => ({
      action_id: a.action_id,
      block_id: a.block_id,
      type: a.type ?? 'button',
      ...(a.type === undefined || a.type === 'button'
        ? { text: { type: 'plain_text', text: a.text ?? a.action_id, emoji: true } }
        : {}),
      ...(a.value !== undefined ? { value: a.value } : {}),
      ...(a.selected_option !== undefined ? { selected_option: a.selected_option } : {}),
      ...(a.style !== undefined ? { style: a.style } : {}),
      action_ts: ts,
    })),
  };
  if (input.message !== undefined) {
    payload.message = {
      type: 'message',
      user: input.message.user,
      bot_id: input.message.bot_id,
      app_id: input.api_app_id ?? PAYLOAD_DEFAULTS.api_app_id,
      team: teamId,
      ts: input.message.ts,
      text: input.message.text ?? '',
      blocks: input.message.blocks ?? [],
      ...(input.message.thread_ts !== undefined ? { thread_ts: input.message.thread_ts } : {}),
    };
  }
  return payload;
}

/** Form-encoded `payload=<json>` body of a block_actions interaction. */
export function blockActionsBody(input: BlockActionsInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(input)) }).toString();
}

export interface EventCallbackOptions {
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  /** The bot user the event is delivered to (fills `authorizations`). */
  bot_user_id?: string;
}

/** JSON body of an Events API `event_callback` envelope around `event`. */
export function eventCallbackBody(event: Record<string, unknown>, opts: EventCallbackOptions = {}): string {
  const teamId = opts.team_id ?? PAYLOAD_DEFAULTS.team_id;
  return JSON.stringify({
    token: PAYLOAD_DEFAULTS.token,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: opts.api_app_id ?? PAYLOAD_DEFAULTS.api_app_id,
    event,
    type: 'event_callback',
    event_id: opts.event_id ?? randomId('Ev0', 6),
    event_time: opts.event_time ?? Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: opts.bot_user_id ?? 'U0LOCALBOT',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: randomId('4-', 12),
  });
}

export interface PostSignedOptions {
  /** Signing timestamp in seconds (default now); pass an old one to test replay protection. */
  timestampSec?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** POST `body` to `url` signed with `secret`, as Slack would. */
export async function postSigned(
  url: string,
  body: string,
  contentType: string,
  secret: string,
  opts: PostSignedOptions = {},
): Promise<Response> {
  const headers = {
    'content-type': contentType,
    ...signSlackRequest(secret, body, opts.timestampSec),
    ...opts.headers,
  };
  return fetch(url, { method: 'POST', headers, body, ...(opts.signal ? { signal: opts.signal } : {}) });
}
