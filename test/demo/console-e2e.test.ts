// The whole product without Slack, as a newcomer sees it: the local console in Debian chromium, the real bot,
// the worker, real Temporal and the demo web farm behind HAProxy (sshd targets where they can be started).
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../dev/localStack';
import { loadEnv } from '../../src/env';
import { uniqueName } from '../support/temporal';

const POLL = { timeout: 60_000, interval: 200 };
let stack: LocalStack;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync('test-artifacts', { recursive: true });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'console-e2e-'));
  const env = loadEnv({
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    ROLLOUT_TASK_QUEUE: uniqueName('console-e2e'),
    ROLLOUT_STATE_DIR: stateDir,
    ROLLOUT_CONFIG: '',
    SLACK_BOT_TOKEN: '',
  });
  stack = await startLocalStack({ env, stateDir, farm: { sshBaseAddress: '127.0.0.81' } });
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
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The top-level (non-ephemeral) root message of the rollout of `release`. */
function rootOf(release: string): Locator {
  return page.locator('#channel-messages .msg.msg-bot:not(.ephemeral)').filter({
    has: page.locator('.block-header', { hasText: new RegExp(`web-farm ${release.replace(/[.+]/g, '\\$&')}$`) }),
  });
}

async function slash(text: string) {
  await page.locator('#composer').fill(text);
  await page.locator('#composer').press('Enter');
}

describe('npm start experience: console + bot + worker + demo farm', () => {
  it('rolls out v2: the root message reaches Succeeded and every server answers v2', async () => {
    await page.goto(stack.consoleUrl);
    await expect.poll(() => page.locator('#connection').textContent(), POLL).toBe('live');
    await slash('/rollout web-farm v2');
    const root = rootOf('v2');
    await expect
      .poll(async () => (await root.count()) > 0 && (await root.first().textContent()), POLL)
      .toMatch(/Succeeded/);
    expect(await root.first().textContent()).toMatch(/4 succeeded/);
    const versions = await stack.farm.versions();
    expect(Object.values(versions)).toEqual(['v2', 'v2', 'v2', 'v2']);
    // The console's side panel shows what each server answers.
    await expect.poll(() => page.locator('#panels').textContent(), POLL).toMatch(/web1v2/);
  });

  it('the broken release: Exclude machine on the failure card keeps web3 out of the pool, the rest answer it', async () => {
    await slash('/rollout web-farm v3-broken');
    const root = rootOf('v3-broken');
    await expect.poll(() => root.count(), POLL).toBe(1);
    // The card is in the rollout's thread.
    await expect.poll(() => root.locator('.reply-count').count(), POLL).toBe(1);
    await root.locator('.reply-count').click();
    const card = page
      .locator('#thread-messages .msg')
      .filter({ has: page.locator('button[data-action-id="rollout.decide.exclude"]') });
    await expect.poll(() => card.count(), POLL).toBe(1);
    expect(await card.textContent()).toMatch(/web3/);
    await card.screenshot({ path: 'test-artifacts/failure-card.png' });
    await page.screenshot({ path: 'test-artifacts/console-failure.png' });

    await card.locator('button[data-action-id="rollout.decide.exclude"]').click();
    await page.locator('#confirm-dialog').waitFor();
    await page.locator('#confirm-ok').click();

    await expect.poll(() => root.first().textContent(), POLL).toMatch(/Succeeded/);
    expect(await root.first().textContent()).toMatch(/1 excluded/);
    const outcome = page.locator('#thread-messages .msg', { hasText: /Exclude chosen by/ });
    await expect.poll(() => outcome.count(), POLL).toBe(1);
    expect(await outcome.textContent()).toMatch(/@alice/);

    const versions = await stack.farm.versions();
    const pool = await stack.farm.poolState();
    for (const name of ['web1', 'web2', 'web4']) {
      expect(versions[name]).toBe('v3-broken');
      expect(pool[name]).toBe('UP');
    }
    expect(['DRAIN', 'MAINT']).toContain(pool.web3);
    await page.screenshot({ path: 'test-artifacts/console-excluded.png' });
    expect(pageErrors).toEqual([]);
    expect(stack.standin.refusals).toEqual([]);
  });
});
