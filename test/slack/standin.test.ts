import { channel as diagnosticsChannel } from 'node:diagnostics_channel';
import { webApi } from '@slack/bolt';
import { ping, WebSocket } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin, type MessageChange, type SlackStandin } from '../../dev/standin/server';
import { memoryLogger } from './helpers';

const TOKEN = 'xoxb-local-test';
let standin: SlackStandin;
let client: webApi.WebClient;

function newClient(token?: string, extra: webApi.WebClientOptions = {}): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: standin.url,
    logger: memoryLogger(),
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
    ...extra,
  });
}

beforeAll(async () => {
  standin = await startSlackStandin({
    tokens: [TOKEN],
    users: [
      { id: 'U1', name: 'alice', real_name: 'Alice A', email: 'alice@example.com' },
      { id: 'U2', name: 'bob' },
    ],
    usergroups: [{ id: 'S1', handle: 'deployers', users: ['U1', 'U2'] }],
    channels: [
      { id: 'C1', name: 'deploys', members: ['U1', 'U2'] },
      { id: 'C2', name: 'quiet', is_member: false },
    ],
  });
  client = newClient(TOKEN);
});

afterEach(() => standin.reset());
afterAll(() => standin.close());

describe('Slack stand-in with the real WebClient', () => {
  it('serves auth.test with a base URL ending in /api/', async () => {
    expect(standin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const r = await client.auth.test();
    expect(r).toMatchObject({
      ok: true,
      user_id: standin.bot.user_id,
      bot_id: standin.bot.bot_id,
      team_id: standin.team.id,
    });
    expect(standin.calls[0]).toMatchObject({
      method: 'auth.test',
      token: TOKEN,
      contentType: 'application/x-www-form-urlencoded',
    });
  });

  it('posts a message and a reply in its thread, with increasing ts', async () => {
    const seen: MessageChange[] = [];
    const off = standin.on('message', (c) => seen.push(c));
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploying* web@1.2.3' } }];
    const parent = await client.chat.postMessage({ channel: 'C1', text: 'Deploying web@1.2.3', blocks });
    expect(parent).toMatchObject({ ok: true, channel: 'C1', message: { text: 'Deploying web@1.2.3', blocks } });
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply = await client.chat.postMessage({ channel: 'C1', text: 'host web-1 done', thread_ts: parent.ts! });
    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    // A reply to a reply lands in the same thread.
    await client.chat.postMessage({ channel: 'C1', text: 'host web-2 done', thread_ts: reply.ts! });
    off();

    const msgs = standin.channelMessages('C1');
    expect(msgs.map((m) => m.text)).toEqual(['Deploying web@1.2.3', 'host web-1 done', 'host web-2 done']);
    expect(msgs[0]).toMatchObject({
      blocks,
      user: standin.bot.user_id,
      ephemeral: false,
      reply_count: 2,
      thread_ts: parent.ts,
    });
    expect(standin.thread('C1', parent.ts!).map((m) => m.text)).toEqual(msgs.map((m) => m.text));
    expect(msgs[2]!.thread_ts).toBe(parent.ts);
    expect(seen.map((s) => s.kind)).toEqual(['posted', 'posted', 'posted']);
    expect(standin.refusals).toEqual([]);
  });

  it('updates a message, keeping the edit history, and keeps blocks when only text changes', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'step 1/3' } }];
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'v1', blocks });
    const r1 = await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'v2' });
    expect(r1).toMatchObject({ ok: true, channel: 'C1', ts: posted.ts, text: 'v2' });
    const newBlocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'step 2/3' } }];
    await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'v3', blocks: newBlocks });

    const m = standin.message('C1', posted.ts!)!;
    expect(m).toMatchObject({ text: 'v3', blocks: newBlocks, edited: { user: standin.bot.user_id } });
    expect(m.history.map((h) => [h.text, h.blocks])).toEqual([
      ['v1', blocks],
      ['v2', blocks],
    ]);
    expect(standin.channelMessages('C1')).toHaveLength(1);
  });

  it('answers message_not_found for chat.update / chat.delete of an unknown ts', async () => {
    await expect(client.chat.update({ channel: 'C1', ts: '1700000000.000100', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'message_not_found' },
    });
    await expect(client.chat.delete({ channel: 'C1', ts: '1700000000.000100' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('posts ephemeral messages for one user, which chat.update cannot touch', async () => {
    const r = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you can see this' });
    expect(r.ok).toBe(true);
    const m = standin.message('C1', r.message_ts!)!;
    expect(m).toMatchObject({ ephemeral: true, ephemeralUser: 'U1', text: 'only you can see this' });
    await expect(client.chat.update({ channel: 'C1', ts: r.message_ts!, text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    await expect(client.chat.postEphemeral({ channel: 'C1', user: 'U9', text: 'x' })).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
  });

  it('deletes messages and gives permalinks', async () => {
    const p = await client.chat.postMessage({ channel: 'C1', text: 'to delete' });
    const link = await client.chat.getPermalink({ channel: 'C1', message_ts: p.ts! });
    expect(link.permalink).toBe(`https://local.slack.com/archives/C1/p${p.ts!.replace('.', '')}`);
    const d = await client.chat.delete({ channel: 'C1', ts: p.ts! });
    expect(d).toMatchObject({ ok: true, channel: 'C1', ts: p.ts });
    expect(standin.channelMessages('C1')).toEqual([]);
  });

  it('serves users.info, usergroups.users.list and conversations.info from its options', async () => {
    const u = await client.users.info({ user: 'U1' });
    expect(u.user).toMatchObject({
      id: 'U1',
      name: 'alice',
      real_name: 'Alice A',
      profile: { email: 'alice@example.com' },
    });
    await expect(client.users.info({ user: 'U404' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });

    expect((await client.usergroups.users.list({ usergroup: 'S1' })).users).toEqual(['U1', 'U2']);
    standin.usergroups.get('S1')!.users = ['U2'];
    expect((await client.usergroups.users.list({ usergroup: 'S1' })).users).toEqual(['U2']);
    await expect(client.usergroups.users.list({ usergroup: 'S404' })).rejects.toMatchObject({
      data: { error: 'no_such_subteam' },
    });

    const c = await client.conversations.info({ channel: 'C1' });
    expect(c.channel).toMatchObject({ id: 'C1', name: 'deploys', is_member: true, is_private: false });
    await expect(client.conversations.info({ channel: 'C404' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
  });

  it('refuses unknown channels and channels the bot is not in', async () => {
    await expect(client.chat.postMessage({ channel: 'C404', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C2', text: 'x' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
  });

  it('refuses invalid Block Kit with invalid_blocks and records the refusal', async () => {
    const blocks = [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }];
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x', blocks })).rejects.toMatchObject({
      data: { ok: false, error: 'invalid_blocks', errors: ['blocks[0].text.text: longer than 150 (151)'] },
    });
    await expect(client.chat.postMessage({ channel: 'C1', text: '' })).rejects.toMatchObject({
      data: { error: 'no_text' },
    });
    expect(standin.refusals.map((r) => [r.method, r.error])).toEqual([
      ['chat.postMessage', 'invalid_blocks'],
      ['chat.postMessage', 'no_text'],
    ]);
    expect(standin.channelMessages('C1')).toEqual([]);
  });

  it('answers ratelimited with HTTP 429 + Retry-After, and the WebClient waits then retries', async () => {
    const p = await client.chat.postMessage({ channel: 'C1', text: 'v1' });
    standin.failNext('chat.update', { error: 'ratelimited', retryAfterSec: 1 });
    const limited: number[] = [];
    client.on(webApi.WebClientEvent.RATE_LIMITED, (sec: number) => limited.push(sec));
    const started = Date.now();
    const r = await client.chat.update({ channel: 'C1', ts: p.ts!, text: 'v2' });
    const waited = Date.now() - started;
    expect(r.ok).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(limited).toEqual([1]);
    const updates = standin.calls.filter((c) => c.method === 'chat.update');
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    expect(updates[0]!.injected).toEqual({ error: 'ratelimited', retryAfterSec: 1 });
    expect(standin.message('C1', p.ts!)!.text).toBe('v2');
  });

  it('surfaces ratelimited to a client that rejects rate-limited calls', async () => {
    const strict = newClient(TOKEN, { rejectRateLimitedCalls: true });
    standin.failNext('chat.postMessage', { error: 'ratelimited', retryAfterSec: 30 });
    await expect(strict.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 30,
    });
  });

  it('injects HTTP 500 (retried by the client) and Slack errors', async () => {
    standin.failNext('chat.postMessage', { status: 500 });
    const r = await client.chat.postMessage({ channel: 'C1', text: 'after a 500' });
    expect(r.ok).toBe(true);
    expect(standin.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.status)).toEqual([500, 200]);

    standin.failNext('chat.postMessage', { error: 'channel_is_archived' });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_is_archived' },
    });
  });

  it('refuses a missing token with not_authed and a wrong one with invalid_auth', async () => {
    await expect(newClient(undefined).auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'not_authed' } });
    await expect(newClient('xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });

  it('accepts JSON bodies with a bearer token (blocks as an array)', async () => {
    const res = await fetch(`${standin.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C1', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.json()) as { ok: boolean; ts: string };
    expect(body.ok).toBe(true);
    expect(standin.message('C1', body.ts)).toMatchObject({ text: 'json', blocks: [{ type: 'divider' }] });

    const noAuth = await fetch(`${standin.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C1', text: 'json', token: TOKEN }),
    });
    expect(await noAuth.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('opens views after validating them', async () => {
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Deploy' }, blocks: [] };
    const r = await client.views.open({ trigger_id: '123.456.abc', view });
    expect(r.view).toMatchObject({ type: 'modal', title: view.title });
    expect(standin.views[0]).toMatchObject({ trigger_id: '123.456.abc' });
    await expect(
      client.views.open({ trigger_id: '1', view: { ...view, title: { type: 'plain_text', text: 'x'.repeat(25) } } }),
    ).rejects.toMatchObject({ data: { error: 'invalid_arguments', errors: ['view.title.text: longer than 24 (25)'] } });
  });
});

describe('response URLs', () => {
  const post = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('posts ephemeral responses by default and in_channel ones to the channel', async () => {
    const url = standin.responseUrlFor('cmd-1', { channel: 'C1', user: 'U1' });
    expect(url).toMatch(/\/response\/cmd-1$/);
    expect((await post(url, { text: 'working on it' })).status).toBe(200);
    expect((await post(url, { text: 'deploy started', response_type: 'in_channel' })).status).toBe(200);
    const msgs = standin.channelMessages('C1');
    expect(msgs.map((m) => [m.text, m.ephemeral, m.ephemeralUser, m.source])).toEqual([
      ['working on it', true, 'U1', 'response_url'],
      ['deploy started', false, undefined, 'response_url'],
    ]);
    expect(standin.responses.map((r) => r.outcome)).toEqual(['posted', 'posted']);
  });

  it('replaces and deletes the original message', async () => {
    const p = await client.chat.postMessage({ channel: 'C1', text: 'Approve?' });
    const url = standin.responseUrlFor('act-1', { channel: 'C1', user: 'U1', messageTs: p.ts! });
    await post(url, { replace_original: true, text: 'Approved by <@U1>' });
    expect(standin.message('C1', p.ts!)).toMatchObject({ text: 'Approved by <@U1>', history: [{ text: 'Approve?' }] });
    await post(url, { delete_original: true });
    expect(standin.message('C1', p.ts!)).toBeUndefined();
    expect(standin.responses.map((r) => r.outcome)).toEqual(['replaced', 'deleted']);
  });

  it('refuses invalid blocks, unknown URLs and a sixth use', async () => {
    const url = standin.responseUrlFor('cmd-2', { channel: 'C1', user: 'U1' });
    const bad = await post(url, { blocks: [{ type: 'nope' }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
      errors: ['blocks[0].type: unknown block type "nope"'],
    });
    expect(standin.refusals).toHaveLength(1);
    for (let i = 0; i < 4; i++) expect((await post(url, { text: `r${i}` })).status).toBe(200);
    expect(await (await post(url, { text: 'too many' })).json()).toEqual({ ok: false, error: 'used_url' });
    const unknown = await post(url.replace('cmd-2', 'never-issued'), { text: 'x' });
    expect(unknown.status).toBe(404);
  });
});

describe('Socket Mode', () => {
  const APP_TOKEN = 'xapp-1-A0LOCAL-standin';

  it('apps.connections.open wants an app-level token: a bot token or an unknown xapp token is refused', async () => {
    const s = await startSlackStandin({ tokens: [TOKEN], appTokens: [APP_TOKEN] });
    try {
      const open = (token: string) =>
        new webApi.WebClient(token, {
          slackApiUrl: s.url,
          logger: memoryLogger(),
          retryConfig: { retries: 0 },
        }).apps.connections.open({});
      await expect(open(TOKEN)).rejects.toMatchObject({ data: { ok: false, error: 'not_allowed_token_type' } });
      await expect(open('xapp-1-other')).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });
      const ok = await open(APP_TOKEN);
      expect(ok.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=/);
      await expect(s.socketSend('events_api', {})).rejects.toThrow(/no Socket Mode connection/);
    } finally {
      await s.close();
    }
  });

  it('says hello, answers pings, pushes envelopes and resolves with the ack; a missing ack times out', async () => {
    const s = await startSlackStandin({ appTokens: [APP_TOKEN] });
    const web = new webApi.WebClient(APP_TOKEN, { slackApiUrl: s.url, logger: memoryLogger() });
    const { url } = await web.apps.connections.open({});
    // A ticket is good for one connection only.
    const ws = new WebSocket(url!);
    const received: Array<Record<string, unknown>> = [];
    const next = () =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => (received.length > 0 ? resolve(received.shift()!) : setTimeout(check, 5));
        check();
      });
    ws.addEventListener('message', (e) => received.push(JSON.parse(String(e.data)) as Record<string, unknown>));
    const pongs = diagnosticsChannel('undici:websocket:pong');
    let ponged = false;
    const onPong = () => {
      ponged = true;
    };
    pongs.subscribe(onPong);
    try {
      expect(await next()).toMatchObject({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0LOCAL' } });
      expect(s.socketConnections).toBe(1);
      ping(ws, Buffer.from('are you there'));
      await expect.poll(() => ponged, { timeout: 2000 }).toBe(true);

      const acked = s.socketSend('slash_commands', { command: '/rollout', text: 'web-farm v2' });
      const env = await next();
      expect(env).toMatchObject({
        type: 'slash_commands',
        payload: { command: '/rollout' },
        accepts_response_payload: true,
      });
      ws.send(JSON.stringify({ envelope_id: env.envelope_id, payload: { text: 'ok' } }));
      expect(await acked).toEqual({ envelope_id: env.envelope_id, payload: { text: 'ok' } });
      expect(s.envelopes[0]).toMatchObject({ type: 'slash_commands', ack: { payload: { text: 'ok' } } });

      await expect(s.socketSend('interactive', { type: 'block_actions' }, { timeoutMs: 100 })).rejects.toThrow(
        /no ack/,
      );
      expect(((await next()) as { accepts_response_payload: boolean }).accepts_response_payload).toBe(false);

      const reused = new WebSocket(url!);
      const refused = await new Promise<string>((resolve) => {
        reused.addEventListener('error', () => resolve('error'));
        reused.addEventListener('open', () => resolve('open'));
      });
      expect(refused).toBe('error');
    } finally {
      pongs.unsubscribe(onPong);
      ws.close();
      await s.close();
    }
  });
});
