// A real Bolt app (HTTP receiver on port 0) behind a signature-checking proxy, the Slack stand-in, and the local
// console wired to them: what the console tests drive.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type SlashCommand } from '@slack/bolt';
import { startConsole, type ConsoleHandle, type ConsoleOptions } from '../../dev/console/server';
import { serveHttp } from '../../dev/http';
import { startSlackStandin, type SlackStandin } from '../../dev/standin/server';
import { memoryLogger } from '../slack/helpers';

export const TOKEN = 'xoxb-console-test';
export const SECRET = 'console-test-signing-secret';
export const CHANNEL = { id: 'C0DEPLOYS', name: 'deploys' };
export const ALICE = { id: 'U0ALICE', name: 'alice' };
export const BOB = { id: 'U0BOB', name: 'bob' };

export interface ReceivedRequest {
  contentType: string;
  body: string;
  timestamp: string;
  signature: string;
  /** Verified here independently of Bolt: HMAC-SHA256 over `v0:<ts>:<body>` with the secret, fresh timestamp. */
  signatureValid: boolean;
  /** What the body was: `command`, `block_actions`, `event:<type>`. */
  kind: string;
  status: number;
}

export function helloBlocks(user: string): unknown[] {
  return [
    { type: 'header', block_id: 'hello.header', text: { type: 'plain_text', text: 'Deploy web@1.2.3 :rocket:' } },
    {
      type: 'section',
      block_id: 'hello.summary',
      text: {
        type: 'mrkdwn',
        text: `*Ready* to roll out \`web@1.2.3\` for <@${user}> · <https://example.com/runs/42?a=1&amp;b=2|run 42> &amp; ~old~ _notes_`,
      },
      fields: [
        { type: 'mrkdwn', text: '*Targets*\n4' },
        { type: 'mrkdwn', text: '*Window*\n2 at a time' },
      ],
    },
    {
      type: 'context',
      block_id: 'hello.context',
      elements: [{ type: 'mrkdwn', text: ':hourglass: waiting for approval' }],
    },
    { type: 'divider', block_id: 'hello.divider' },
    {
      type: 'actions',
      block_id: 'hello.actions',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          text: { type: 'plain_text', text: 'Approve' },
          value: 'run-42',
          style: 'primary',
          confirm: {
            title: { type: 'plain_text', text: 'Approve the deploy?' },
            text: { type: 'mrkdwn', text: 'This rolls *web@1.2.3* out to 4 servers.' },
            confirm: { type: 'plain_text', text: 'Yes, deploy' },
            deny: { type: 'plain_text', text: 'Not now' },
          },
        },
        {
          type: 'button',
          action_id: 'reject',
          text: { type: 'plain_text', text: 'Reject' },
          value: 'run-42',
          style: 'danger',
        },
      ],
    },
  ];
}

export function approvedBlocks(user: string): unknown[] {
  return [
    { type: 'header', block_id: 'hello.header', text: { type: 'plain_text', text: 'Deploy web@1.2.3 :rocket:' } },
    {
      type: 'section',
      block_id: 'hello.summary',
      text: { type: 'mrkdwn', text: `:white_check_mark: *Approved* by <@${user}>` },
    },
    {
      type: 'section',
      block_id: 'hello.log',
      text: { type: 'mrkdwn', text: '```\n$ deploy web@1.2.3\n&lt;ok&gt; 4/4 &amp; done\n```' },
    },
  ];
}

export interface Fixture {
  standin: SlackStandin;
  app: App;
  console: ConsoleHandle;
  /** Where the console posts: the signature-checking proxy in front of the bot. */
  botUrl: string;
  received: ReceivedRequest[];
  seen: {
    commands: SlashCommand[];
    actions: BlockAction[];
    messages: Array<Record<string, unknown>>;
    mentions: Array<Record<string, unknown>>;
  };
  logger: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

function verify(secret: string, body: string, ts: string, sig: string): boolean {
  const expected = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
  return fresh && sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
}

function kindOf(contentType: string, body: string): string {
  if (contentType.startsWith('application/json')) {
    const e = (JSON.parse(body) as { event?: { type?: string } }).event;
    return `event:${e?.type ?? '?'}`;
  }
  const form = new URLSearchParams(body);
  const payload = form.get('payload');
  if (payload !== null) return (JSON.parse(payload) as { type: string }).type;
  return form.has('command') ? 'command' : 'form';
}

/** Forwards to the bot unchanged, recording each request and whether its signature checks out. */
async function signatureProxy(
  target: string,
  received: ReceivedRequest[],
): Promise<{ url: string; close(): Promise<void> }> {
  const http = await serveHttp((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const contentType = String(req.headers['content-type'] ?? '');
      const timestamp = String(req.headers['x-slack-request-timestamp'] ?? '');
      const signature = String(req.headers['x-slack-signature'] ?? '');
      const rec: ReceivedRequest = {
        contentType,
        body,
        timestamp,
        signature,
        signatureValid: verify(SECRET, body, timestamp, signature),
        kind: kindOf(contentType, body),
        status: 0,
      };
      received.push(rec);
      const headers: Record<string, string> = { 'content-type': contentType };
      if (timestamp) headers['x-slack-request-timestamp'] = timestamp;
      if (signature) headers['x-slack-signature'] = signature;
      fetch(target, { method: 'POST', headers, body })
        .then(async (r) => {
          rec.status = r.status;
          const text = await r.text();
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
          res.end(text);
        })
        .catch((e: unknown) => {
          res.writeHead(502);
          res.end(String(e));
        });
    });
  });
  return { url: `${http.origin}/slack/events`, close: http.close };
}

export async function startFixture(overrides: Partial<ConsoleOptions> = {}): Promise<Fixture> {
  const standin = await startSlackStandin({ tokens: [TOKEN], users: [ALICE, BOB], channels: [CHANNEL] });
  const logger = memoryLogger();
  const seen: Fixture['seen'] = { commands: [], actions: [], messages: [], mentions: [] };
  const app = new App({
    token: TOKEN,
    signingSecret: SECRET,
    logger,
    clientOptions: { slackApiUrl: standin.url, retryConfig: { retries: 0 } },
  });
  app.command('/rollout', async ({ command, ack, client, respond }) => {
    seen.commands.push(command);
    if (command.text.trim() === 'ack') {
      // Slack shows an ack body to the user who typed the command.
      await ack({ response_type: 'ephemeral', text: 'Got it: *ack*' });
      return;
    }
    await ack();
    if (command.text.trim() === 'hello') {
      await client.chat.postMessage({
        channel: command.channel_id,
        text: 'Deploy web@1.2.3: ready',
        blocks: helloBlocks(command.user_id) as never,
      });
    } else {
      await respond({ response_type: 'ephemeral', text: `I do not know \`${command.text}\`` });
    }
  });
  app.action<BlockAction>(
    { block_id: 'hello.actions', action_id: 'approve' },
    async ({ ack, body, client, respond }) => {
      await ack();
      seen.actions.push(body);
      await client.chat.update({
        channel: body.channel!.id,
        ts: body.message!.ts,
        text: 'Deploy web@1.2.3: approved',
        blocks: approvedBlocks(body.user.id) as never,
      });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `Thanks <@${body.user.id}>, *web@1.2.3* is on its way.`,
      });
    },
  );
  app.action<BlockAction>({ block_id: 'hello.actions', action_id: 'reject' }, async ({ ack, body, respond }) => {
    await ack();
    seen.actions.push(body);
    await respond({ replace_original: true, text: `Rejected by <@${body.user.id}>` });
  });
  app.message(async ({ message, say }) => {
    const m = message as unknown as Record<string, unknown>;
    seen.messages.push(m);
    if (m.bot_id !== undefined || m.subtype !== undefined) return;
    // A mention is answered by the app_mention listener (as the real bot does).
    if (String(m.text).includes('<@U0LOCALBOT>')) return;
    if (typeof m.thread_ts === 'string') await say({ text: `You said: ${String(m.text)}`, thread_ts: m.thread_ts });
  });
  app.event('app_mention', async ({ event, say }) => {
    seen.mentions.push(event as unknown as Record<string, unknown>);
    await say({ text: `At your service, <@${event.user}>`, thread_ts: event.thread_ts ?? event.ts });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const botUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const received: ReceivedRequest[] = [];
  const proxy = await signatureProxy(botUrl, received);
  const consoleHandle = await startConsole({
    standin,
    botEventsUrl: proxy.url,
    signingSecret: SECRET,
    channel: CHANNEL,
    user: ALICE,
    users: [BOB],
    teamId: standin.team.id,
    extraPanels: async () => ({ 'Demo farm': { web1: 'v1', web2: 'v1' } }),
    panelsIntervalMs: 200,
    ...overrides,
  });
  return {
    standin,
    app,
    console: consoleHandle,
    botUrl: proxy.url,
    received,
    seen,
    logger,
    async close() {
      await consoleHandle.close();
      await proxy.close();
      await app.stop();
      await standin.close();
    },
  };
}
