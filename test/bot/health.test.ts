// The bot's health endpoints and logs, in both modes: HTTP (Bolt's customRoutes beside /slack/events) and Socket
// Mode (a small server on PORT; no signing secret needed). Real Bolt, the Slack stand-in, real Temporal.
import { rmSync } from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slashCommandBody } from '../../dev/signing';
import { startSlackStandin, type SlackStandin } from '../../dev/standin/server';
import { createBot } from '../../src/bot/app';
import { BotSetupError, runBot } from '../../src/bot/main';
import { loadEnv } from '../../src/env';
import { createLogger } from '../../src/observability/logger';
import { getFreePort } from '../../src/temporal/devServer';
import { localConfig } from '../cli/helpers';
import { temporalTestEnv, type TemporalTestEnv } from '../support/temporal';
import { memoryLogger } from '../slack/helpers';
import { CHANNEL, rolloutIdOf, roots, startHarness, TOKEN, waitFor, type Harness } from './harness';

const APP_TOKEN = 'xapp-1-A0LOCAL-health-test';
let env: TemporalTestEnv;
let standin: SlackStandin;
let harness: Harness;
const fixture = localConfig({
  web: { targets: ['tag:web'], process: [{ name: 'install', script: 'printf %s #{Release} > version' }] },
});

beforeAll(async () => {
  [env, standin] = await Promise.all([
    temporalTestEnv('health'),
    startSlackStandin({
      tokens: [TOKEN],
      appTokens: [APP_TOKEN],
      users: [{ id: 'UALICE', name: 'alice' }],
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  await env.startWorker({ transports: {} });
});

afterAll(async () => {
  await harness?.stop();
  await env?.close();
  await standin?.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

interface Ready {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}
const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Ready };
};

describe('the bot in HTTP mode', () => {
  it('serves /healthz and /readyz beside /slack/events: ready with Temporal, the receiver and its Slack worker', async () => {
    const { loadConfigFile } = await import('../../src/config/load');
    harness = await startHarness(env, standin, loadConfigFile(fixture.configPath));
    const base = harness.url.replace(/\/slack\/events$/, '');
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await get(`${base}/readyz`);
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checks).toMatchObject({
      temporal: { ok: true },
      receiver: { ok: true },
      slackWorker: { ok: true, detail: 'RUNNING' },
    });
  });

  it('control: /readyz says 503 and why once Temporal stops answering; /healthz still 200', async () => {
    const { loadConfigFile } = await import('../../src/config/load');
    // Temporal reached through a TCP relay this test can cut.
    const sockets = new Set<net.Socket>();
    const [host, port] = env.address.split(':') as [string, string];
    const relay = net.createServer((down) => {
      const up = net.connect(Number(port), host);
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const via = `127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
    const connection = await Connection.connect({ address: via });
    const workerConnection = await NativeConnection.connect({ address: via });
    const bot = createBot({
      config: loadConfigFile(fixture.configPath),
      client: new Client({ connection }),
      workerConnection,
      temporalAddress: via,
      taskQueue: `${env.taskQueue}-cut`,
      slack: { botToken: TOKEN, signingSecret: 'x', apiUrl: standin.url },
      logger: memoryLogger(),
      rootUpdater: false,
    });
    const { port: botPort } = await bot.start(0, '127.0.0.1');
    const base = `http://127.0.0.1:${botPort}`;
    try {
      expect((await get(`${base}/readyz`)).status).toBe(200);
      relay.close();
      for (const s of sockets) s.destroy();
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const ready = await get(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('not ready');
      expect(ready.body.checks.temporal?.ok).toBe(false);
      expect(ready.body.checks.temporal?.detail).toContain(`Temporal at ${via} does not answer`);
      expect(ready.body.checks.receiver).toEqual({ ok: true, detail: 'started' });
    } finally {
      await bot.stop();
      await workerConnection.close();
      await connection.close();
    }
  });
});

describe('the bot in Socket Mode (runBot, as `rollout bot` runs it)', () => {
  const baseEnv = () => ({
    TEMPORAL_ADDRESS: env.address,
    ROLLOUT_TASK_QUEUE: env.taskQueue,
    ROLLOUT_CONFIG: fixture.configPath,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: standin.url,
  });

  it('needs no signing secret; serves health on PORT; its log lines about a rollout carry the rollout id', async () => {
    const port = await getFreePort();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const stop = new AbortController();
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const running = runBot(loadEnv({ ...baseEnv(), SLACK_APP_TOKEN: APP_TOKEN, PORT: String(port) }), {
      signal: stop.signal,
      log: createLogger({ level: 'info', service: 'bot', format: 'json', destination: sink }),
      onReady: () => ready(),
    });
    try {
      await Promise.race([started, running]);
      expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // Ready once the socket is connected (Bolt's start waits for it).
      const ready200 = await get(`http://127.0.0.1:${port}/readyz`);
      expect(ready200.status, JSON.stringify(ready200.body)).toBe(200);
      expect(ready200.body.checks.receiver).toEqual({ ok: true, detail: 'started' });

      const before = roots(standin).length;
      const payload = Object.fromEntries(
        new URLSearchParams(
          slashCommandBody({
            command: '/rollout',
            text: 'web v5',
            user_id: 'UALICE',
            channel_id: CHANNEL,
            response_url: standin.responseUrlFor('health-sock', { channel: CHANNEL, user: 'UALICE' }),
          }),
        ),
      );
      await standin.socketSend('slash_commands', payload, { timeoutMs: 3000 });
      const root = await waitFor(() => roots(standin)[before], 10_000, 'the root message');
      const rolloutId = rolloutIdOf(root);
      const requested = await waitFor(
        () =>
          lines
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((l) => l.msg === 'rollout bot: rollout requested'),
        10_000,
        'the request logged',
      );
      expect(requested).toMatchObject({ level: 'info', service: 'bot', rolloutId, deployable: 'web', user: 'UALICE' });
    } finally {
      stop.abort();
      await running;
    }
  });

  it('control: without an app token (HTTP mode) the signing secret is required', async () => {
    const e = await runBot(loadEnv(baseEnv())).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BotSetupError);
    expect((e as Error).message).toMatch(/SLACK_SIGNING_SECRET is not set/);
  });
});
