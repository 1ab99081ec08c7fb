// The console's JSON + SSE API against a real Bolt app: state per user, live events, signed requests, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, CHANNEL, SECRET, startFixture, type Fixture } from './fixture';

/** Generous: the whole suite runs files in parallel (Temporal workers included). */
const POLL = { timeout: 15_000, interval: 50 };
let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx?.close();
});

interface SseEvent {
  event: string;
  data: any;
}

/** Reads a console SSE stream; `next(pred)` resolves with the first event (seen or future) matching. */
async function sse(url: string) {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const raw = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(raw)?.[1];
          const data = /^data: (.*)$/m.exec(raw)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted
    }
  })();
  let cursor = 0;
  return {
    events,
    /** The first matching event since the stream opened, whatever the cursor (for periodic events). */
    async first(pred: (e: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching SSE event; saw ${events.map((e) => e.event).join(', ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200).unref();
        });
      }
    },
    async next(pred: (e: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e, k) => k >= cursor && pred(e));
        if (i >= 0) {
          cursor = i + 1;
          return events[i]!;
        }
        if (Date.now() > deadline)
          throw new Error(`no matching SSE event; saw ${events.map((e) => e.event).join(', ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
    close: () => ac.abort(),
  };
}

const post = async (path: string, body: unknown, user?: string) => {
  const res = await fetch(new URL(path, fx.console.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(body as object), ...(user ? { user } : {}) }),
  });
  return { status: res.status, json: (await res.json()) as any };
};
const state = async (user?: string) =>
  (await (await fetch(new URL(`api/state${user ? `?user=${user}` : ''}`, fx.console.url))).json()) as any;

describe('console API', () => {
  it('serves the page and its modules', async () => {
    const page = await fetch(fx.console.url);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/page.js">');
    for (const m of ['page.js', 'mrkdwn.js', 'blocks.js']) {
      const r = await fetch(new URL(m, fx.console.url));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
    }
    expect((await fetch(new URL('nope', fx.console.url))).status).toBe(404);
  });

  it('pushes posted and edited messages live; ephemerals only to their user; state per user', async () => {
    const alice = await sse(new URL(`api/events?user=${ALICE.id}`, fx.console.url).href);
    const bob = await sse(new URL(`api/events?user=${BOB.id}`, fx.console.url).href);
    await alice.next((e) => e.event === 'hello');
    await bob.next((e) => e.event === 'hello');

    const cmd = await post('api/command', { text: '/rollout hello' });
    expect(cmd.json).toMatchObject({ ok: true, status: 200 });
    const posted = await alice.next((e) => e.event === 'message' && e.data.kind === 'posted');
    expect(posted.data.message).toMatchObject({
      isBot: true,
      userName: 'rollout',
      ephemeral: false,
      text: 'Deploy web@1.2.3: ready',
    });
    await bob.next((e) => e.event === 'message' && e.data.message.ts === posted.data.message.ts);
    const ts = posted.data.message.ts as string;

    const click = await post('api/action', { messageTs: ts, actionId: 'approve', blockId: 'hello.actions' });
    expect(click.json).toMatchObject({ ok: true, status: 200 });
    const updated = await alice.next(
      (e) => e.event === 'message' && e.data.kind === 'updated' && e.data.message.ts === ts,
    );
    expect(updated.data.message).toMatchObject({ edited: true, text: 'Deploy web@1.2.3: approved' });
    const eph = await alice.next((e) => e.event === 'message' && e.data.message.ephemeral);
    expect(eph.data.message.text).toBe(`Thanks <@${ALICE.id}>, *web@1.2.3* is on its way.`);
    // Panels are pushed on the console's own tick, which may come before or after the click's events.
    const panels = await alice.first((e) => e.event === 'panels');
    expect(panels.data).toEqual({ 'Demo farm': { web1: 'v1', web2: 'v1' } });

    // Bob saw the edit but never alice's ephemeral.
    await bob.next((e) => e.event === 'message' && e.data.kind === 'updated');
    expect(bob.events.some((e) => e.event === 'message' && e.data.message.ephemeral)).toBe(false);
    expect((await state(BOB.id)).ephemerals).toEqual([]);
    const st = await state();
    expect(st.me).toEqual(ALICE);
    expect(st.users).toEqual([ALICE, BOB]);
    expect(st.directory).toMatchObject({ [ALICE.id]: 'alice', [BOB.id]: 'bob', U0LOCALBOT: 'rollout' });
    expect(st.messages.map((m: any) => m.ts)).toEqual([ts]);
    expect(st.ephemerals).toHaveLength(1);
    expect(st.panels).toEqual({ 'Demo farm': { web1: 'v1', web2: 'v1' } });

    // A thread reply: recorded as alice's message, the root's reply count pushed, the bot answers in the thread.
    const reply = await post('api/reply', { threadTs: ts, text: 'a & b <c>' });
    expect(reply.json.bot).toEqual([expect.objectContaining({ ok: true, status: 200 })]);
    const mine = await alice.next((e) => e.event === 'message' && e.data.message.user === ALICE.id);
    expect(mine.data.message).toMatchObject({
      threadTs: ts,
      text: 'a &amp; b &lt;c&gt;',
      isBot: false,
      userName: 'alice',
    });
    await alice.next((e) => e.event === 'message' && e.data.message.ts === ts && e.data.message.replyCount === 1);
    const answer = await alice.next(
      (e) => e.event === 'message' && e.data.message.isBot && e.data.message.threadTs === ts,
    );
    expect(answer.data.message.text).toBe('You said: a &amp; b &lt;c&gt;');
    expect(fx.seen.messages.at(-1)).toMatchObject({
      type: 'message',
      user: ALICE.id,
      thread_ts: ts,
      channel: CHANNEL.id,
      text: 'a &amp; b &lt;c&gt;',
    });
    expect((await state()).threads[ts]).toHaveLength(2);
    const recorded = fx.standin.message(CHANNEL.id, mine.data.message.ts as string)!;
    expect(recorded).toMatchObject({ source: 'user', user: ALICE.id, thread_ts: ts, ephemeral: false });
    expect(recorded.bot_id).toBeUndefined();

    alice.close();
    bob.close();
  });

  it('a click in an ephemeral message sends its container (no message) and respond() replaces it', async () => {
    const blocks = [
      {
        type: 'actions',
        block_id: 'hello.actions',
        elements: [
          { type: 'button', action_id: 'reject', text: { type: 'plain_text', text: 'Reject' }, value: 'run-7' },
        ],
      },
    ];
    const { message_ts: ts } = await fx.app.client.chat.postEphemeral({
      channel: CHANNEL.id,
      user: BOB.id,
      text: 'only bob',
      blocks,
    });
    const r = await post('api/action', { messageTs: ts, actionId: 'reject', blockId: 'hello.actions' }, BOB.id);
    expect(r.json).toMatchObject({ ok: true, status: 200 });
    const body = fx.seen.actions.at(-1)!;
    expect(body.container).toMatchObject({
      type: 'message',
      message_ts: ts,
      channel_id: CHANNEL.id,
      is_ephemeral: true,
    });
    expect(body.message).toBeUndefined();
    expect(body.user).toMatchObject({ id: BOB.id, username: 'bob' });
    expect(body.actions[0]).toMatchObject({ action_id: 'reject', value: 'run-7', text: { text: 'Reject' } });
    await expect.poll(() => fx.standin.message(CHANNEL.id, ts!)?.text, POLL).toBe(`Rejected by <@${BOB.id}>`);
  });

  it("shows a slash command's ack body to its user, as Slack does", async () => {
    const before = (await state(BOB.id)).ephemerals.length;
    const r = await post('api/command', { text: '/rollout ack' }, BOB.id);
    expect(r.json).toMatchObject({ ok: true, status: 200 });
    await expect.poll(async () => (await state(BOB.id)).ephemerals.length, POLL).toBe(before + 1);
    expect((await state(BOB.id)).ephemerals.at(-1).text).toBe('Got it: *ack*');
  });

  it('a top-level message that mentions the bot sends message and app_mention events', async () => {
    const r = await post('api/reply', { text: 'hey @rollout, and @bob' });
    expect(fx.seen.mentions.at(-1)).toMatchObject({
      type: 'app_mention',
      text: `hey <@U0LOCALBOT>, and <@${BOB.id}>`,
      user: ALICE.id,
    });
    expect(r.json.bot).toHaveLength(2);
    expect(fx.received.slice(-2).map((x) => x.kind)).toEqual(['event:message', 'event:app_mention']);
  });

  it('every request it sent was signed correctly', () => {
    expect(fx.received.length).toBeGreaterThanOrEqual(6);
    expect(fx.received.filter((r) => !r.signatureValid)).toEqual([]);
    expect(fx.standin.refusals).toEqual([]);
  });

  it('refuses bad input: non-JSON posts, unknown users, unknown messages, non-commands', async () => {
    const form = await fetch(new URL('api/command', fx.console.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=/rollout hello',
    });
    expect(form.status).toBe(415);
    expect((await post('api/command', { text: '/rollout hello' }, 'U0MALLORY')).status).toBe(400);
    expect((await post('api/command', { text: 'no slash' })).status).toBe(400);
    expect((await post('api/action', { messageTs: '1.2', actionId: 'x' })).status).toBe(404);
    expect((await post('api/reply', { text: '   ' })).status).toBe(400);
  });
});

describe('a console with the wrong signing secret', () => {
  it('is refused by Bolt (401), the handler never runs, and the page is told', async () => {
    const { startConsole } = await import('../../dev/console/server.js');
    const fx2 = await startFixture();
    const bad = await startConsole({
      standin: fx2.standin,
      botEventsUrl: fx2.botUrl,
      signingSecret: `${SECRET}-wrong`,
      channel: CHANNEL,
      user: ALICE,
    });
    try {
      const events = await sse(new URL(`api/events?user=${ALICE.id}`, bad.url).href);
      await events.next((e) => e.event === 'hello');
      const res = await fetch(new URL('api/command', bad.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: '/rollout hello' }),
      });
      expect(await res.json()).toMatchObject({ ok: false, status: 401 });
      const n = await events.next((e) => e.event === 'notice');
      expect(n.data).toMatchObject({ level: 'error' });
      expect(n.data.text).toMatch(/dispatch_failed/);
      expect(fx2.seen.commands).toEqual([]);
      expect(fx2.received.at(-1)).toMatchObject({ kind: 'command', signatureValid: false, status: 401 });
      events.close();
    } finally {
      await bad.close();
      await fx2.close();
    }
  });
});
