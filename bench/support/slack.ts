// The real Bolt app (createBot) against the Slack stand-in, for the benchmarks: signed slash commands and clicks,
// and what the stand-in recorded. (test/bot/harness.ts is the tests' version; this one has no vitest in it.)
import { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createBot, type Bot } from '../../src/bot/app';
import type { Config } from '../../src/config/load';
import { slackLogger } from '../../src/observability/boltLogger';
import { createLogger } from '../../src/observability/logger';
import { blockActionsBody, FORM_CONTENT_TYPE, postSigned, slashCommandBody } from '../../dev/signing';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';

export const TOKEN = 'xoxb-bench';
export const SECRET = 'bench-signing-secret';
export const CHANNEL = 'C_BENCH';
export const USERS = ['UALICE', 'UBOB'];

export async function startBenchStandin(): Promise<SlackStandin> {
  return startSlackStandin({
    tokens: [TOKEN],
    users: USERS.map((id) => ({ id, name: id.slice(1).toLowerCase() })),
    channels: [{ id: CHANNEL, name: 'deploys' }],
  });
}

export interface BenchBot {
  bot: Bot;
  url: string;
  /** Sends `/rollout <text>`; resolves when the HTTP answer (the ack) is in, with its time in ms. */
  command(text: string, user: string): Promise<{ status: number; ms: number }>;
  click(message: StandinMessage, actionId: string, user: string): Promise<{ status: number; ms: number }>;
  stop(): Promise<void>;
}

let seq = 0;

export async function startBenchBot(o: {
  address: string;
  client: Client;
  taskQueue: string;
  standin: SlackStandin;
  config: Config;
}): Promise<BenchBot> {
  const workerConnection = await NativeConnection.connect({ address: o.address });
  const bot = createBot({
    config: o.config,
    client: o.client,
    taskQueue: o.taskQueue,
    slackTaskQueue: `${o.taskQueue}-slack`,
    slack: { botToken: TOKEN, signingSecret: SECRET, apiUrl: o.standin.url },
    logger: slackLogger(createLogger({ level: 'warn', service: 'bench-bot' })),
    workerConnection,
  });
  const { url } = await bot.start(0, '127.0.0.1');
  const timed = async (p: () => Promise<Response>) => {
    const t0 = performance.now();
    const res = await p();
    await res.text();
    return { status: res.status, ms: performance.now() - t0 };
  };
  return {
    bot,
    url: url!,
    command(text, user) {
      const responseUrl = o.standin.responseUrlFor(`b${++seq}`, { channel: CHANNEL, user });
      const body = slashCommandBody({
        command: '/rollout',
        text,
        user_id: user,
        channel_id: CHANNEL,
        response_url: responseUrl,
      });
      return timed(() => postSigned(url!, body, FORM_CONTENT_TYPE, SECRET));
    },
    click(message, actionId, user) {
      const found = findButton(message, actionId);
      if (!found) throw new Error(`no button ${actionId} on message ${message.ts}`);
      const responseUrl = o.standin.responseUrlFor(`b${++seq}`, {
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
          user: o.standin.bot.user_id,
          bot_id: o.standin.bot.bot_id,
        },
        actions: [{ action_id: actionId, block_id: found.blockId, value: found.value }],
        response_url: responseUrl,
      });
      return timed(() => postSigned(url!, body, FORM_CONTENT_TYPE, SECRET));
    },
    async stop() {
      await bot.stop();
      await workerConnection.close();
    },
  };
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

export function roots(standin: SlackStandin, channel = CHANNEL): StandinMessage[] {
  return standin
    .channelMessages(channel)
    .filter((m) => !m.ephemeral && (m.thread_ts === undefined || m.thread_ts === m.ts));
}

export function threadOf(standin: SlackStandin, root: StandinMessage): StandinMessage[] {
  return standin.thread(root.channel, root.ts).filter((m) => m.ts !== root.ts && !m.ephemeral);
}

export function rolloutIdOf(m: StandinMessage): string {
  return (m.metadata as { event_payload?: { rollout_id?: string } } | undefined)?.event_payload?.rollout_id ?? '';
}

/** Slack Web API calls per minute by method over `seconds` (response URL posts as `response_url`). */
export function callsPerMinute(standin: SlackStandin, seconds: number): Record<string, number> {
  const by: Record<string, number> = {};
  for (const c of standin.calls) by[c.method] = (by[c.method] ?? 0) + 1;
  return Object.fromEntries(Object.entries(by).map(([m, n]) => [m, (n * 60) / Math.max(seconds, 1e-9)]));
}

/** Polls `get` every 10 ms until it returns something truthy. */
export async function waitFor<T>(get: () => T | undefined | false | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wall clock in ms since the epoch with sub-ms resolution (comparable with `date +%s%N` on the same host). */
export const nowMs = (): number => performance.timeOrigin + performance.now();
