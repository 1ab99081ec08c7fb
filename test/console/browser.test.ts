// The local console in a real browser (Debian chromium via playwright-core) against a REAL Bolt app: a slash
// command, a button with a confirm dialog, a chat.update edit and an ephemeral arriving live, a thread reply.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, CHANNEL, startFixture, type Fixture } from './fixture';

const ARTIFACTS = 'test-artifacts';
/** Generous: the whole suite runs files in parallel (Temporal workers included). */
const POLL = { timeout: 45_000, interval: 50 };
let fx: Fixture;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  fx = await startFixture();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

describe('local console in chromium, wired to a real Bolt app', () => {
  it('runs a command, confirms a button, shows the edit and the ephemeral live, and replies in a thread', async () => {
    await page.goto(fx.console.url);
    await expect.poll(() => page.locator('#connection').textContent(), POLL).toBe('live');
    await expect
      .poll(() => page.locator('#panels [data-panel="Demo farm"] tr[data-key="web1"]').textContent(), POLL)
      .toBe('web1v1');
    expect(await page.locator('#user-select').inputValue()).toBe(ALICE.id);

    // Slash command typed in the composer.
    await page.locator('#composer').fill('/rollout hello');
    await page.locator('#composer').press('Enter');
    const root = page.locator('#channel-messages .msg.msg-bot:not(.ephemeral)').first();
    await root.locator('.block-header').waitFor();
    expect(await root.locator('.block-header').textContent()).toBe('Deploy web@1.2.3 🚀');
    const summary = root.locator('.block-section[data-block-id="hello.summary"]');
    expect(await summary.locator('strong').first().textContent()).toBe('Ready');
    expect(await summary.locator('code').textContent()).toBe('web@1.2.3');
    expect(await summary.locator('.mention').textContent()).toBe('@alice');
    expect(await summary.locator('a').getAttribute('href')).toBe('https://example.com/runs/42?a=1&b=2');
    expect(await summary.locator('a').textContent()).toBe('run 42');
    expect(await summary.locator('del').textContent()).toBe('old');
    expect(await summary.locator('em').textContent()).toBe('notes');
    expect(await summary.locator('.section-field').allTextContents()).toEqual(['Targets4', 'Window2 at a time']);
    expect(await root.locator('.block-context').textContent()).toBe('⌛ waiting for approval');
    expect(await root.locator('.block-divider hr').count()).toBe(1);
    const approve = root.locator('button[data-action-id="approve"]');
    expect(await approve.getAttribute('class')).toContain('bk-button-primary');
    expect(await root.locator('button[data-action-id="reject"]').getAttribute('class')).toContain('bk-button-danger');
    const rootTs = (await root.getAttribute('data-ts'))!;
    expect(rootTs).toBe(fx.standin.channelMessages(CHANNEL.id)[0]!.ts);

    // The confirm dialog: deny first (nothing is sent), then confirm.
    await approve.click();
    const dialog = page.locator('#confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.locator('#confirm-title').textContent()).toBe('Approve the deploy?');
    expect(await page.locator('#confirm-text strong').textContent()).toBe('web@1.2.3');
    expect(await page.locator('#confirm-ok').textContent()).toBe('Yes, deploy');
    expect(await page.locator('#confirm-deny').textContent()).toBe('Not now');
    await page.screenshot({ path: `${ARTIFACTS}/console-confirm.png` });
    await page.locator('#confirm-deny').click();
    await dialog.waitFor({ state: 'hidden' });
    await new Promise((r) => setTimeout(r, 300));
    expect(fx.seen.actions).toHaveLength(0);

    await approve.click();
    await dialog.waitFor({ state: 'visible' });
    await page.locator('#confirm-ok').click();

    // chat.update arrives over SSE and replaces the message in place; the ephemeral appears for alice only.
    const rootNow = page.locator(`#channel-messages .msg[data-ts="${rootTs}"]`);
    await rootNow.locator('.block-section[data-block-id="hello.summary"] strong', { hasText: 'Approved' }).waitFor();
    expect(await rootNow.locator('.block-section[data-block-id="hello.summary"]').textContent()).toBe(
      '✅ Approved by @alice',
    );
    expect(await rootNow.locator('.edited').textContent()).toBe('(edited)');
    expect(await rootNow.locator('pre.code-block').textContent()).toBe('$ deploy web@1.2.3\n<ok> 4/4 & done');
    expect(await rootNow.locator('button[data-action-id="approve"]').count()).toBe(0);
    const eph = page.locator('#channel-messages .msg.ephemeral');
    await eph.waitFor();
    expect(await eph.locator('.ephemeral-note').textContent()).toContain('Only visible to you');
    expect(await eph.locator('.msg-body').textContent()).toBe('Thanks @alice, web@1.2.3 is on its way.');

    // A thread: open it from the root message, reply, see the bot's answer and the reply count.
    await rootNow.hover();
    await rootNow.locator('button.reply-in-thread').click();
    await page.locator('#thread-pane').waitFor({ state: 'visible' });
    expect(await page.locator(`#thread-root .msg[data-ts="${rootTs}"] .block-header`).textContent()).toBe(
      'Deploy web@1.2.3 🚀',
    );
    await page.locator('#thread-composer').fill('how is it going & <fine>?');
    await page.locator('#thread-composer').press('Enter');
    const replies = page.locator('#thread-replies .msg');
    await expect.poll(() => replies.count(), POLL).toBe(2);
    expect(await replies.nth(0).locator('.msg-author').textContent()).toBe('alice');
    expect(await replies.nth(0).locator('.msg-body').textContent()).toBe('how is it going & <fine>?');
    expect(await replies.nth(1).locator('.msg-author').textContent()).toBe('rollout');
    expect(await replies.nth(1).locator('.msg-body').textContent()).toBe('You said: how is it going & <fine>?');
    await expect.poll(() => rootNow.locator('.reply-count').textContent(), POLL).toBe('2 replies');
    // Thread replies stay out of the channel list.
    expect(await page.locator('#channel-messages .msg').count()).toBe(2);

    // Mentioning the bot sends app_mention too.
    await page.locator('#thread-composer').fill('@rollout status');
    await page.locator('#thread-composer').press('Enter');
    await expect.poll(() => replies.count(), POLL).toBe(4);
    expect(await replies.nth(2).locator('.mention').textContent()).toBe('@rollout');
    await expect
      .poll(() => page.locator('#thread-replies .msg-body', { hasText: 'At your service, @alice' }).count(), POLL)
      .toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/console-thread.png` });

    // Everything reached the bot as Slack would send it: signed correctly (checked independently here, and
    // Bolt, which refuses unsigned or mis-signed requests with 401, ran every handler).
    expect(fx.received.map((r) => r.kind)).toEqual([
      'command',
      'block_actions',
      'event:message',
      'event:message',
      'event:app_mention',
    ]);
    expect(fx.received.every((r) => r.signatureValid && r.status === 200)).toBe(true);
    expect(fx.logger.lines.filter((l) => /signature|authenticity|stale/i.test(l))).toEqual([]);
    expect(fx.seen.commands.map((c) => [c.command, c.text, c.user_id, c.channel_id])).toEqual([
      ['/rollout', 'hello', ALICE.id, CHANNEL.id],
    ]);
    expect(fx.seen.actions).toHaveLength(1);
    expect(fx.seen.actions[0]!.actions[0]).toMatchObject({
      action_id: 'approve',
      block_id: 'hello.actions',
      value: 'run-42',
      style: 'primary',
    });
    expect(fx.seen.actions[0]!.container).toMatchObject({
      type: 'message',
      message_ts: rootTs,
      channel_id: CHANNEL.id,
    });
    expect(fx.seen.mentions).toHaveLength(1);
    expect(fx.standin.refusals).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("switching to another user hides alice's ephemeral and sends as bob", async () => {
    await page.locator('#user-select').selectOption('U0BOB');
    await expect.poll(() => page.locator('#channel-messages .msg.ephemeral').count(), POLL).toBe(0);
    await page.locator('#composer').fill('/rollout what');
    await page.locator('#composer').press('Enter');
    const eph = page.locator('#channel-messages .msg.ephemeral');
    await eph.waitFor();
    expect(await eph.locator('.msg-body').textContent()).toBe('I do not know what');
    expect(fx.seen.commands.at(-1)).toMatchObject({ user_id: 'U0BOB', user_name: 'bob', text: 'what' });
    await page.screenshot({ path: `${ARTIFACTS}/console-bob.png` });
    await page.locator('#user-select').selectOption(ALICE.id);
    await expect.poll(() => page.locator('#channel-messages .msg.ephemeral').count(), POLL).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
