// A real Bolt bot (createBot) against the Slack stand-in, real Temporal and real sshd targets; helpers that
// send signed slash commands, clicks and events and read what the stand-in recorded.
import { NativeConnection } from '@temporalio/worker';
import { expect } from 'vitest';
import { createBot, type Bot } from '../../src/bot/app';
import type { Config } from '../../src/config/load';
import {
  blockActionsBody,
  eventCallbackBody,
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  postSigned,
  slashCommandBody,
} from '../../dev/signing';
import type { SlackStandin, StandinMessage } from '../../dev/standin/server';
import type { TemporalTestEnv } from '../support/temporal';
import { memoryLogger } from '../slack/helpers';

export const TOKEN = 'xoxb-bot-test';
export const SECRET = 'bot-test-signing-secret';
export const CHANNEL = 'C_DEPLOYS';

let seq = 0;

export interface Harness {
  bot: Bot;
  url: string;
  standin: SlackStandin;
  logger: ReturnType<typeof memoryLogger>;
  /** Sends `/rollout <text>` as `user`; returns the HTTP status, the time to the answer and the response id. */
  command(
    text: string,
    user?: string,
    opts?: { timestampSec?: number; secret?: string },
  ): Promise<{ status: number; ms: number; responseId: string }>;
  /** Clicks the button with `actionId` on `message` as `user`. */
  click(
    message: StandinMessage,
    actionId: string,
    user: string,
  ): Promise<{ status: number; ms: number; responseId: string }>;
  /** Posts a message event (a reply in a thread). */
  say(text: string, threadTs: string, user?: string, type?: 'message' | 'app_mention'): Promise<number>;
  /** Ephemeral messages posted through the response URL `responseId`. */
  responses(responseId: string): StandinMessage[];
  waitResponse(responseId: string, timeoutMs?: number): Promise<StandinMessage>;
  stop(): Promise<void>;
}

export async function startHarness(
  env: TemporalTestEnv,
  standin: SlackStandin,
  config: Config,
  opts: { deliveryTimeoutMs?: number; slackWorker?: boolean; botToken?: string } = {},
): Promise<Harness> {
  const logger = memoryLogger();
  const workerConnection =
    opts.slackWorker === false ? undefined : await NativeConnection.connect({ address: env.address });
  const bot = createBot({
    config,
    client: env.client,
    taskQueue: env.taskQueue,
    slackTaskQueue: `${env.taskQueue}-slack-${++seq}`,
    slack: { botToken: opts.botToken ?? TOKEN, signingSecret: SECRET, apiUrl: standin.url },
    logger,
    ...(workerConnection ? { workerConnection } : {}),
    deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 5000,
    rootUpdater: { intervalMs: 300 },
    temporalUiUrl: 'http://localhost:8233',
  });
  const { url } = await bot.start(0, '127.0.0.1');
  let responseSeq = 0;
  const newResponse = (context: Parameters<SlackStandin['responseUrlFor']>[1]) => {
    const id = `r${seq}-${++responseSeq}`;
    return { id, url: standin.responseUrlFor(id, context) };
  };
  const timed = async (p: () => Promise<Response>) => {
    const t0 = performance.now();
    const res = await p();
    await res.text();
    return { status: res.status, ms: performance.now() - t0 };
  };
  const h: Harness = {
    bot,
    url: url!,
    standin,
    logger,
    async command(text, user = 'UALICE', o = {}) {
      const r = newResponse({ channel: CHANNEL, user });
      const body = slashCommandBody({
        command: '/rollout',
        text,
        user_id: user,
        channel_id: CHANNEL,
        response_url: r.url,
      });
      const t = await timed(() =>
        postSigned(
          h.url,
          body,
          FORM_CONTENT_TYPE,
          o.secret ?? SECRET,
          o.timestampSec !== undefined ? { timestampSec: o.timestampSec } : {},
        ),
      );
      return { ...t, responseId: r.id };
    },
    async click(message, actionId, user) {
      const found = findButton(message, actionId);
      expect(found, `button ${actionId} on message ${message.ts}`).toBeDefined();
      const r = newResponse({
        channel: message.channel,
        user,
        messageTs: message.ts,
        ...(message.thread_ts ? { threadTs: message.thread_ts } : {}),
      });
      const body = blockActionsBody({
        user: { id: user },
        channel: message.channel,
        message: {
          ts: message.ts,
          ...(message.text !== undefined ? { text: message.text } : {}),
          blocks: message.blocks ?? [],
          ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
          user: standin.bot.user_id,
          bot_id: standin.bot.bot_id,
        },
        actions: [{ action_id: actionId, block_id: found!.blockId, value: found!.value }],
        response_url: r.url,
      });
      const t = await timed(() => postSigned(h.url, body, FORM_CONTENT_TYPE, SECRET));
      return { ...t, responseId: r.id };
    },
    async say(text, threadTs, user = 'UALICE', type = 'message') {
      const ts = `${(Date.now() / 1000).toFixed(6)}`;
      const event = {
        type,
        user,
        text,
        ts,
        thread_ts: threadTs,
        channel: CHANNEL,
        event_ts: ts,
        channel_type: 'channel',
      };
      const res = await postSigned(
        h.url,
        eventCallbackBody(event, { bot_user_id: standin.bot.user_id }),
        JSON_CONTENT_TYPE,
        SECRET,
      );
      return res.status;
    },
    responses(responseId) {
      return standin.responses.filter((r) => r.id === responseId && r.message).map((r) => r.message!);
    },
    async waitResponse(responseId, timeoutMs = 15_000) {
      return waitFor(() => h.responses(responseId)[0], timeoutMs, `a response on ${responseId}`);
    },
    async stop() {
      await bot.stop();
      await workerConnection?.close();
    },
  };
  return h;
}

export function findButton(m: StandinMessage, actionId: string): { blockId: string; value: string } | undefined {
  for (const b of (m.blocks ?? []) as Array<{
    type: string;
    block_id?: string;
    elements?: Array<{ action_id?: string; value?: string }>;
  }>) {
    if (b.type !== 'actions') continue;
    const e = b.elements?.find((x) => x.action_id === actionId);
    if (e) return { blockId: b.block_id ?? '', value: e.value ?? '' };
  }
  return undefined;
}

/** All the text of a message (fallback + blocks), for matching. */
export function textOf(m: StandinMessage | undefined): string {
  if (!m) return '';
  return `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
}

/** Polls `get` until it returns something truthy. */
export async function waitFor<T>(
  get: () => T | undefined | false | null,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The root messages (top level, not ephemeral) the bot posted in the channel, oldest first. */
export function roots(standin: SlackStandin, channel = CHANNEL): StandinMessage[] {
  return standin
    .channelMessages(channel)
    .filter((m) => !m.ephemeral && (m.thread_ts === undefined || m.thread_ts === m.ts));
}

export function rolloutIdOf(m: StandinMessage): string {
  return (m.metadata as { event_payload?: { rollout_id?: string } } | undefined)?.event_payload?.rollout_id ?? '';
}

export function threadOf(standin: SlackStandin, root: StandinMessage): StandinMessage[] {
  return standin.thread(root.channel, root.ts).filter((m) => m.ts !== root.ts && !m.ephemeral);
}
