// The bot over Socket Mode: the REAL Bolt app (createBot with an app-level token) connects to the Slack stand-in's
// WebSocket (apps.connections.open → hello), receives envelopes and acks them; real Temporal, local targets.
import { localTargets as sharedLocalTargets } from '../support/rollouts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DECIDE_RETRY } from '../../activities/slack/blocks';
import { createBot, type Bot } from '../../src/bot/app';
import { blockActionsPayload, slashCommandBody } from '../../dev/signing';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { rolloutHandle, waitUntilStarted } from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor, readTargetFile, realTransports } from '../support/rollouts';
import { temporalTestEnv, type TemporalTestEnv } from '../support/temporal';
import { memoryLogger } from '../slack/helpers';
import { CHANNEL, findButton, rolloutIdOf, roots, textOf, threadOf, TOKEN, waitFor } from './harness';

const APP_TOKEN = 'xapp-1-A0LOCAL-socket-test';

let env: TemporalTestEnv;
let standin: SlackStandin;
let transports: ReturnType<typeof realTransports>;
let workerConnection: NativeConnection;
let bot: Bot;
let targets: TargetPlan[];
const logger = memoryLogger();

const localTargets = (n: number): TargetPlan[] => sharedLocalTargets(n, { dirPrefix: 'socket-', namePrefix: 'web' });

beforeAll(async () => {
  [env, standin] = await Promise.all([
    temporalTestEnv('socket'),
    startSlackStandin({
      tokens: [TOKEN],
      appTokens: [APP_TOKEN],
      users: ['UALICE', 'UBOB'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
  targets = localTargets(3);
  const people = { starters: ['UALICE', 'UBOB'], approvers: ['UALICE', 'UBOB'] };
  const install = (script: string) => ({
    type: 'rolling',
    name: 'deploy',
    window: 2,
    childSteps: [{ name: 'install', script }],
  });
  const config = configFor(targets, {
    'web-farm': { targets: ['tag:web'], ...people, process: [install('sleep 0.2; printf %s #{Release} > version')] },
    flaky: {
      targets: ['tag:web'],
      ...people,
      process: [
        install(
          'if [ #{Machine.Name} = web2 ] && [ ! -f fixed ]; then echo "health check failed" >&2; exit 3; fi; printf %s #{Release} > version',
        ),
      ],
    },
  });
  workerConnection = await NativeConnection.connect({ address: env.address });
  bot = createBot({
    config,
    client: env.client,
    taskQueue: env.taskQueue,
    slackTaskQueue: `${env.taskQueue}-slack-socket`,
    slack: { botToken: TOKEN, signingSecret: 'unused-in-socket-mode', appToken: APP_TOKEN, apiUrl: standin.url },
    logger,
    workerConnection,
    deliveryTimeoutMs: 5000,
    rootUpdater: { intervalMs: 300 },
    temporalUiUrl: 'http://localhost:8233',
  });
  const t0 = performance.now();
  const started = await bot.start();
  expect(started).toEqual({}); // no HTTP listener in Socket Mode
  await standin.waitForSocket(5000);
  console.info(`socket mode: connected in ${Math.round(performance.now() - t0)} ms`);
});

afterAll(async () => {
  const quietly = (p: Promise<unknown> | undefined) => p?.catch((e: unknown) => console.warn(`cleanup: ${String(e)}`));
  await quietly(bot?.stop());
  await quietly(workerConnection?.close());
  await quietly(env?.close());
  await quietly(transports?.close());
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
});

let responseSeq = 0;

/** Pushes a `slash_commands` envelope for `/rollout <text>`; returns the ack, its latency and the root message. */
async function slash(text: string, user = 'UALICE') {
  const before = roots(standin).length;
  const responseUrl = standin.responseUrlFor(`sock-${++responseSeq}`, { channel: CHANNEL, user });
  const payload = Object.fromEntries(
    new URLSearchParams(
      slashCommandBody({ command: '/rollout', text, user_id: user, channel_id: CHANNEL, response_url: responseUrl }),
    ),
  );
  const t0 = performance.now();
  const ack = await standin.socketSend('slash_commands', payload, { timeoutMs: 3000 });
  const ms = performance.now() - t0;
  const root = await waitFor(() => roots(standin)[before], 10_000, `the root message of ${text}`);
  return { ack, ms, root, rolloutId: rolloutIdOf(root), payload };
}

const current = (m: StandinMessage) => standin.message(m.channel, m.ts)!;

describe('Socket Mode', () => {
  it('connects with the app-level token: apps.connections.open, then hello over the WebSocket', async () => {
    const open = standin.calls.filter((c) => c.method === 'apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]).toMatchObject({ token: APP_TOKEN, status: 200, response: { ok: true } });
    expect((open[0]!.response as { url: string }).url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?/);
    expect(standin.socketConnections).toBe(1);
  });

  it('/rollout web-farm v2 as a slash_commands envelope: acked in under 3 s, root posted, rollout succeeds', async () => {
    const { ack, ms, root, rolloutId } = await slash('web-farm v2');
    console.info(`socket mode: slash command acked in ${Math.round(ms)} ms`);
    expect(ack.payload).toEqual({}); // plain ack(); the bot answers through the Web API and the response URL
    expect(ms).toBeLessThan(3000);
    expect(ack.envelope_id).toBe(standin.envelopes.at(-1)!.envelope_id);
    expect(rolloutId).toMatch(/^rollout-/);
    expect(textOf(root)).toContain('web-farm');
    expect(root.source).toBe('api');
    // The root is posted when the rollout is accepted; its workflow may start a moment later.
    await waitUntilStarted(env.client, rolloutId, 100, AbortSignal.timeout(10_000));
    const result = await rolloutHandle(env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    await waitFor(() => /succeeded/i.test(current(root).text ?? ''), 10_000, 'root says succeeded');
    for (const t of targets) expect(readTargetFile(t, 'version')).toBe('v2');
  });

  it('a block_actions click on a failure card as an interactive envelope: acked, retried, rollout succeeds', async () => {
    const { root, rolloutId } = await slash('flaky v3');
    const card = structuredClone(
      await waitFor(
        () => threadOf(standin, root).find((x) => textOf(x).includes(ACTION_DECIDE_RETRY)),
        30_000,
        'a failure card',
      ),
    );
    expect(textOf(card)).toContain('health check failed');
    writeFileSync(path.join(targets[1]!.workdir, 'fixed'), '');
    const button = findButton(card, ACTION_DECIDE_RETRY)!;
    const responseUrl = standin.responseUrlFor(`sock-${++responseSeq}`, {
      channel: card.channel,
      user: 'UBOB',
      messageTs: card.ts,
      ...(card.thread_ts ? { threadTs: card.thread_ts } : {}),
    });
    const payload = blockActionsPayload({
      user: { id: 'UBOB' },
      channel: card.channel,
      message: {
        ts: card.ts,
        ...(card.text !== undefined ? { text: card.text } : {}),
        blocks: card.blocks ?? [],
        ...(card.thread_ts ? { thread_ts: card.thread_ts } : {}),
        user: standin.bot.user_id,
        bot_id: standin.bot.bot_id,
      },
      actions: [{ action_id: ACTION_DECIDE_RETRY, block_id: button.blockId, value: button.value }],
      response_url: responseUrl,
    });
    const t0 = performance.now();
    const ack = await standin.socketSend('interactive', payload, { timeoutMs: 3000 });
    const ms = performance.now() - t0;
    console.info(`socket mode: click acked in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(3000);
    expect(ack.envelope_id).toBe(standin.envelopes.at(-1)!.envelope_id);
    await waitUntilStarted(env.client, rolloutId, 100, AbortSignal.timeout(10_000));
    const result = await rolloutHandle(env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    await waitFor(() => /Retry\*? chosen by <@UBOB>/.test(textOf(current(card))), 15_000, 'the outcome on the card');
    expect(readTargetFile(targets[1]!, 'version')).toBe('v3');
  });
});
