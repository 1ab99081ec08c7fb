import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type SlashCommand } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  blockActionsBody,
  eventCallbackBody,
  postSigned,
  signSlackRequest,
  slashCommandBody,
} from '../../dev/signing';
import { startSlackStandin, type SlackStandin } from '../../dev/standin/server';
import { memoryLogger, sleep } from './helpers';

const TOKEN = 'xoxb-bolt-test';
const SECRET = 'bolt-test-signing-secret';

let standin: SlackStandin;
let app: App;
let eventsUrl: string;
const logger = memoryLogger();
const seen = {
  commands: [] as SlashCommand[],
  actions: [] as BlockAction[],
  events: [] as Array<Record<string, unknown>>,
};

const approvalBlocks = [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*web@1.2.3* → prod' } },
  {
    type: 'actions',
    block_id: 'approval',
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'run-42',
        style: 'primary',
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

beforeAll(async () => {
  standin = await startSlackStandin({
    tokens: [TOKEN],
    users: [{ id: 'U1', name: 'alice' }],
    channels: [{ id: 'C1', name: 'deploys' }],
  });
  app = new App({
    token: TOKEN,
    signingSecret: SECRET,
    logger,
    clientOptions: { slackApiUrl: standin.url, retryConfig: { retries: 0 } },
  });
  app.command('/rollout', async ({ command, ack, respond }) => {
    await ack();
    seen.commands.push(command);
    await respond({ response_type: 'ephemeral', text: `Planning deploy of ${command.text}` });
  });
  app.action<BlockAction>({ block_id: 'approval', action_id: 'approve' }, async ({ ack, body, respond }) => {
    await ack();
    seen.actions.push(body);
    await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
  });
  app.event('app_mention', async ({ event, say }) => {
    seen.events.push(event as unknown as Record<string, unknown>);
    await say({ text: `On it, <@${event.user}>`, thread_ts: event.ts });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

beforeEach(() => {
  seen.commands.length = 0;
  seen.actions.length = 0;
  seen.events.length = 0;
});

afterAll(async () => {
  await app?.stop();
  // Nothing the app sent during the whole suite was refused by the stand-in.
  expect(standin.refusals).toEqual([]);
  await standin.close();
});

const command = (responseUrl: string) =>
  slashCommandBody({
    command: '/rollout',
    text: 'web@1.2.3 prod',
    user_id: 'U1',
    user_name: 'alice',
    channel_id: 'C1',
    team_id: standin.team.id,
    response_url: responseUrl,
    trigger_id: '1.2.abc',
  });

describe('a real Bolt app behind its HTTP receiver', () => {
  it('acks a signed slash command and its respond() reaches the stand-in', async () => {
    const url = standin.responseUrlFor('cmd-ok', { channel: 'C1', user: 'U1' });
    const res = await postSigned(eventsUrl, command(url), FORM_CONTENT_TYPE, SECRET);
    expect(res.status).toBe(200);
    await standin.waitForCall((c) => c.method === 'response_url' && c.responseId === 'cmd-ok');
    expect(seen.commands).toHaveLength(1);
    expect(seen.commands[0]).toMatchObject({
      command: '/rollout',
      text: 'web@1.2.3 prod',
      user_id: 'U1',
      channel_id: 'C1',
    });
    const [reply] = standin.channelMessages('C1').filter((m) => m.source === 'response_url');
    expect(reply).toMatchObject({ text: 'Planning deploy of web@1.2.3 prod', ephemeral: true, ephemeralUser: 'U1' });
  });

  it('routes a signed block action by block_id/action_id and replaces the original message', async () => {
    const posted = await app.client.chat.postMessage({
      channel: 'C1',
      text: 'Approve web@1.2.3?',
      blocks: approvalBlocks,
    });
    const ts = posted.ts!;
    const url = standin.responseUrlFor('act-ok', { channel: 'C1', user: 'U1', messageTs: ts });
    const body = blockActionsBody({
      user: { id: 'U1', username: 'alice' },
      channel: { id: 'C1', name: 'deploys' },
      message: {
        ts,
        text: 'Approve web@1.2.3?',
        blocks: approvalBlocks,
        user: standin.bot.user_id,
        bot_id: standin.bot.bot_id,
      },
      actions: [{ action_id: 'approve', block_id: 'approval', value: 'run-42', text: 'Approve' }],
      response_url: url,
      team_id: standin.team.id,
    });
    const res = await postSigned(eventsUrl, body, FORM_CONTENT_TYPE, SECRET);
    expect(res.status).toBe(200);
    await standin.waitForCall((c) => c.method === 'response_url' && c.responseId === 'act-ok');
    expect(seen.actions).toHaveLength(1);
    expect(seen.actions[0]!.actions[0]).toMatchObject({
      action_id: 'approve',
      block_id: 'approval',
      value: 'run-42',
      type: 'button',
    });
    expect(seen.actions[0]!.container).toMatchObject({ type: 'message', message_ts: ts, channel_id: 'C1' });
    const m = standin.message('C1', ts)!;
    expect(m.text).toBe('Approved by <@U1>');
    expect(m.history).toEqual([expect.objectContaining({ text: 'Approve web@1.2.3?', blocks: approvalBlocks })]);
  });

  it('delivers a signed event_callback; say() posts in the thread through slackApiUrl', async () => {
    const ts = '1700000000.000100';
    const body = eventCallbackBody(
      { type: 'app_mention', user: 'U1', text: `<@${standin.bot.user_id}> status`, ts, channel: 'C1', event_ts: ts },
      { team_id: standin.team.id, bot_user_id: standin.bot.user_id },
    );
    const res = await postSigned(eventsUrl, body, JSON_CONTENT_TYPE, SECRET);
    expect(res.status).toBe(200);
    const call = await standin.waitForCall((c) => c.method === 'chat.postMessage' && c.params.thread_ts === ts);
    expect(call).toMatchObject({ token: TOKEN, status: 200 });
    expect(seen.events).toEqual([expect.objectContaining({ type: 'app_mention', user: 'U1' })]);
    expect(standin.calls.some((c) => c.method === 'auth.test')).toBe(true); // Bolt's token verification
    expect(standin.thread('C1', ts).map((m) => m.text)).toEqual(['On it, <@U1>']);
  });

  describe('refuses unauthentic requests with 401 and never runs the handler', () => {
    const noHandlerRan = async (responseId: string, reason: RegExp) => {
      expect(logger.lines.filter((l) => l.startsWith('warn')).at(-1)).toMatch(reason);
      await sleep(150);
      expect(seen.commands).toEqual([]);
      expect(standin.calls.filter((c) => c.responseId === responseId)).toEqual([]);
    };

    it('a forged signature', async () => {
      const url = standin.responseUrlFor('cmd-forged', { channel: 'C1', user: 'U1' });
      const res = await postSigned(eventsUrl, command(url), FORM_CONTENT_TYPE, 'not-the-secret');
      expect(res.status).toBe(401);
      await noHandlerRan('cmd-forged', /signature mismatch/);
    });

    it('a body changed after signing', async () => {
      const url = standin.responseUrlFor('cmd-tampered', { channel: 'C1', user: 'U1' });
      const headers = signSlackRequest(SECRET, command(url));
      const res = await fetch(eventsUrl, {
        method: 'POST',
        headers: { 'content-type': FORM_CONTENT_TYPE, ...headers },
        body: command(url).replace('prod', 'staging'),
      });
      expect(res.status).toBe(401);
      await noHandlerRan('cmd-tampered', /signature mismatch/);
    });

    it('a timestamp older than 5 minutes, even when correctly signed', async () => {
      const url = standin.responseUrlFor('cmd-stale', { channel: 'C1', user: 'U1' });
      const stale = Math.floor(Date.now() / 1000) - 5 * 60 - 5;
      const res = await postSigned(eventsUrl, command(url), FORM_CONTENT_TYPE, SECRET, { timestampSec: stale });
      expect(res.status).toBe(401);
      await noHandlerRan('cmd-stale', /stale/);
    });

    it('a request without signature headers', async () => {
      const url = standin.responseUrlFor('cmd-unsigned', { channel: 'C1', user: 'U1' });
      const res = await fetch(eventsUrl, {
        method: 'POST',
        headers: { 'content-type': FORM_CONTENT_TYPE },
        body: command(url),
      });
      expect(res.status).toBe(401);
      await noHandlerRan('cmd-unsigned', /Failed to verify authenticity/);
    });
  });
});
