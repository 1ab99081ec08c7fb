// The Slack bot: a Bolt app (Socket Mode with an app token, otherwise HTTP at /slack/events), a Temporal worker
// on the Slack task queue (the thread posts the rollout workflow asks for) and the root updater. Everything the
// bot knows it reads from Temporal; it keeps no state of its own, so it can be restarted at any time.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, SocketModeReceiver, type Logger } from '@slack/bolt';
import { WebClient, WebClientEvent } from '@slack/web-api';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createApproverActivities } from '../../activities/approvers';
import { createSlackActivities } from '../../activities/slack/notifier';
import type { Config } from '../config/load';
import { rolloutActivityLogging } from '../observability/activityLog';
import { slackLogger } from '../observability/boltLogger';
import {
  HEALTH_PATH,
  healthHandlers,
  READY_PATH,
  serveHealth,
  temporalCheck,
  type HealthServer,
  type ReadinessChecks,
} from '../observability/health';
import { createLogger } from '../observability/logger';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from '../temporal/client';
import type { BotContext } from './context';
import { slackDirectory } from './directory';
import { registerListeners } from './listeners';
import { TimestampCheckedReceiver } from './requestTimestamp';
import { createRootUpdater, type RootUpdater, type RootUpdaterOptions } from './rootUpdater';

export interface BotSlackOptions {
  botToken: string;
  /** Verifies Slack's HTTP requests: required in HTTP mode; Socket Mode needs none (the socket is authenticated). */
  signingSecret?: string;
  /** Socket Mode when set (no public URL needed). */
  appToken?: string;
  /** Web API base URL (default Slack's own); tests point it at the stand-in. */
  apiUrl?: string;
}

export interface BotOptions {
  config: Config;
  client: Client;
  /** Task queue of the rollout (and deployable) workflows. */
  taskQueue: string;
  slack: BotSlackOptions;
  temporalUiUrl?: string;
  /** For /readyz's message only. */
  temporalAddress?: string;
  logger?: Logger;
  /** Connection for the bot's own worker on the Slack task queue; without it no such worker runs. */
  workerConnection?: NativeConnection;
  /** Default `<taskQueue>-slack`. */
  slackTaskQueue?: string;
  /** How long a click waits for the workflow to confirm the answer. Default 15 s. */
  deliveryTimeoutMs?: number;
  /** Root updater tuning, or false to run none. */
  rootUpdater?: Partial<Omit<RootUpdaterOptions, 'client' | 'web'>> | false;
  /** The slash command (default `/rollout`). */
  command?: string;
  now?: () => Date;
}

export interface Bot {
  app: App;
  context: BotContext;
  rootUpdater?: RootUpdater;
  worker?: Worker;
  /**
   * Starts Bolt (HTTP on `port`, default 3000, 0 = any; or Socket Mode), the Slack worker and the root updater.
   * `/healthz` and `/readyz` are served on `port`: in HTTP mode beside /slack/events, in Socket Mode (only when
   * a port is given) on a small server of their own.
   */
  start(port?: number, host?: string): Promise<{ port?: number; url?: string }>;
  stop(): Promise<void>;
}

export function slackTaskQueueOf(taskQueue: string): string {
  return `${taskQueue}-slack`;
}

export class BotOptionsError extends Error {}

export function createBot(o: BotOptions): Bot {
  const logger = o.logger ?? slackLogger(createLogger({ level: 'info', service: 'bot' }));
  const apiUrl = o.slack.apiUrl;
  const slackTaskQueue = o.slackTaskQueue ?? slackTaskQueueOf(o.taskQueue);
  const clientOptions = { ...(apiUrl ? { slackApiUrl: apiUrl } : {}) };

  // Readiness: Temporal answers, the Slack worker runs (when the bot has one), the receiver is started (in
  // Socket Mode: its WebSocket is connected; it reconnects by itself after a drop).
  let receiverUp = false;
  let worker: Worker | undefined;
  const checks: ReadinessChecks = {
    temporal: temporalCheck(o.workerConnection ?? o.client.connection, o.temporalAddress ?? 'the Temporal frontend'),
    receiver: () => ({ ok: receiverUp, detail: receiverUp ? 'started' : 'not started' }),
    ...(o.workerConnection
      ? {
          slackWorker: () => {
            const state = worker?.getState() ?? 'not created';
            return { ok: state === 'RUNNING', detail: state };
          },
        }
      : {}),
  };
  const health = healthHandlers(checks);

  let app: App;
  let socket: SocketModeReceiver | undefined;
  if (o.slack.appToken) {
    // Built here (not by App) to watch its connection.
    socket = new SocketModeReceiver({ appToken: o.slack.appToken, logger, installerOptions: { clientOptions } });
    socket.client.on('connected', () => (receiverUp = true));
    for (const down of ['disconnected', 'reconnecting'])
      socket.client.on(down, () => {
        receiverUp = false;
      });
    app = new App({ token: o.slack.botToken, receiver: socket, logger, clientOptions });
  } else {
    if (!o.slack.signingSecret) throw new BotOptionsError('HTTP mode needs the signing secret (or an app token)');
    // HTTP requests go through Bolt's receiver with a timestamp bound in both directions in front of it
    // (requestTimestamp.ts); the health routes carry no Slack headers and pass through.
    const receiver = new TimestampCheckedReceiver({
      signingSecret: o.slack.signingSecret,
      logger,
      customRoutes: [
        { path: HEALTH_PATH, method: ['GET'], handler: (req, res) => health.healthz(req, res) },
        { path: READY_PATH, method: ['GET'], handler: (req, res) => void health.readyz(req, res) },
      ],
    });
    app = new App({ token: o.slack.botToken, receiver, logger, clientOptions });
  }
  // The thread is posted from activities: retries stay well inside the activity's 30 s so that a timed-out
  // attempt never posts late next to its retry; Temporal retries the activity itself.
  const activityWeb = new WebClient(o.slack.botToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    logger,
    timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 3000 },
  });
  // The root updater paces itself: no automatic retries, 429s come back to it.
  const updaterWeb = new WebClient(o.slack.botToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    logger,
    timeout: 10_000,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
  const directory = slackDirectory(activityWeb);
  const context: BotContext = {
    config: o.config,
    client: o.client,
    taskQueue: o.taskQueue,
    slackTaskQueue,
    directory,
    deliveryTimeoutMs: o.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
    logger,
    now: o.now ?? (() => new Date()),
  };
  registerListeners(app, context, o.command ? { command: o.command } : {});
  app.error(async (e) => {
    logger.error(`rollout bot: ${e.stack ?? e.message}`);
  });

  const rootUpdater =
    o.rootUpdater === false
      ? undefined
      : createRootUpdater({
          client: o.client,
          web: updaterWeb,
          taskQueue: o.taskQueue,
          logger,
          ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
          ...(o.now ? { now: o.now } : {}),
          ...o.rootUpdater,
        });

  // ... and a 429 the activities' client sees on chat.update (it retries it itself) pauses the updater.
  activityWeb.on(WebClientEvent.RATE_LIMITED, (retryAfterSec: number, req: { url?: string }) => {
    if (rootUpdater && String(req.url ?? '').endsWith('chat.update')) rootUpdater.bucket.pause(retryAfterSec * 1000);
  });

  let workerRun: Promise<void> | undefined;
  let healthServer: HealthServer | undefined;
  const bot: Bot = {
    app,
    context,
    ...(rootUpdater ? { rootUpdater } : {}),
    async start(port, host) {
      if (o.workerConnection) {
        worker = await Worker.create({
          connection: o.workerConnection,
          namespace: o.client.options.namespace,
          taskQueue: slackTaskQueue,
          activities: {
            ...createSlackActivities({
              web: activityWeb,
              // One chat.update limit per workspace: the updater's 429 pause holds for the thread's updates too.
              ...(rootUpdater ? { chatUpdatePauseMs: () => rootUpdater.bucket.pausedMs } : {}),
              temporalNamespace: o.client.options.namespace,
              ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
            }),
            ...createApproverActivities({ directory }),
          },
          interceptors: { activity: [rolloutActivityLogging] },
        });
        bot.worker = worker;
        workerRun = worker.run();
        workerRun.catch((e: unknown) => logger.error(`rollout bot: Slack worker stopped: ${String(e)}`));
      }
      let result: { port?: number; url?: string } = {};
      if (socket) {
        // Socket Mode needs no HTTP listener; the health endpoints get one when a port is given (`rollout bot`).
        if (port !== undefined) healthServer = await serveHealth({ port, ...(host ? { host } : {}), checks });
        await app.start();
        if (healthServer) result = { port: healthServer.port };
      } else {
        const server = (await app.start({ port: port ?? 3000, ...(host ? { host } : {}) })) as unknown as Server;
        const addr = server.address() as AddressInfo;
        const h = host ?? '127.0.0.1';
        result = { port: addr.port, url: `http://${h.includes(':') ? `[${h}]` : h}:${addr.port}/slack/events` };
        receiverUp = true;
      }
      rootUpdater?.start();
      return result;
    },
    async stop() {
      receiverUp = false;
      await rootUpdater?.stop();
      await app.stop().catch(() => undefined);
      await healthServer?.close();
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => undefined);
    },
  };
  return bot;
}
