// Everything `npm start` runs when no Slack workspace is configured: the embedded Temporal dev server (with its
// UI), a worker, the demo web farm, the Slack stand-in, the real bot talking to it, and the local console.
// The console sends every command and click to the bot signed exactly as Slack would, so this exercises the
// production code paths end to end.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { runBot } from '../src/bot/main';
import { startConsole } from './console/server';
import type { Env } from '../src/env';
import { startSlackStandin, type SlackStandin } from './standin/server';
import { connectTemporal, type TemporalConnection } from '../src/temporal/connect';
import { stopDevServer } from '../src/temporal/devServer';
import { createScriptWorker } from '../src/temporal/worker';
import { startDemoFarm, type DemoFarm, type DemoFarmOptions } from './farm/farm';

export const LOCAL_BOT_TOKEN = 'xoxb-local-console';
export const LOCAL_CHANNEL = { id: 'C0DEPLOYS', name: 'deploys' };
export const LOCAL_USERS = [
  { id: 'U0ALICE', name: 'alice', real_name: 'Alice' },
  { id: 'U0BOB', name: 'bob', real_name: 'Bob' },
];

export interface LocalStackOptions {
  env: Env;
  stateDir: string;
  /** Default: the demo farm's generated config. */
  configPath?: string;
  farm?: Omit<DemoFarmOptions, 'stateDir' | 'log'>;
  consolePort?: number;
  log?: (line: string) => void;
}

export interface LocalStack {
  consoleUrl: string;
  temporalUiUrl?: string;
  temporalAddress: string;
  farm: DemoFarm;
  standin: SlackStandin;
  stop(): Promise<void>;
}

export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  const log = o.log ?? (() => undefined);
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`while stopping: ${(e as Error).message}`));
  };
  try {
    const conn: TemporalConnection = await connectTemporal(o.env, { ui: true });
    stops.push(async () => {
      await conn.close();
      // A dev server this run started is stopped with it (its state stays on disk); a reused one keeps running.
      if (conn.startedEmbedded) await stopDevServer(path.resolve(o.env.ROLLOUT_STATE_DIR));
    });

    const farm = await startDemoFarm({ stateDir: o.stateDir, log, ...o.farm });
    stops.push(() => farm.stop());
    for (const note of farm.notes) log(note);
    const configPath = o.configPath ?? farm.configPath;

    // The worker: runs the rollouts (scripts over SSH or the local transport).
    const { worker, close: closeTransports } = await createScriptWorker({
      connection: await conn.nativeConnection(),
      namespace: conn.namespace,
      taskQueue: o.env.ROLLOUT_TASK_QUEUE,
    });
    const workerDone = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone;
      await closeTransports();
    });

    // Slack: the stand-in plays Slack's Web API; the real bot talks to it.
    const standin = await startSlackStandin({
      tokens: [LOCAL_BOT_TOKEN],
      users: LOCAL_USERS,
      channels: [{ id: LOCAL_CHANNEL.id, name: LOCAL_CHANNEL.name, is_member: true }],
    });
    stops.push(() => standin.close());
    const signingSecret = randomBytes(16).toString('hex');
    const botAbort = new AbortController();
    let botPort: number | undefined;
    const botReady = new Promise<void>((resolve, reject) => {
      const botDone = runBot(
        {
          ...o.env,
          SLACK_BOT_TOKEN: LOCAL_BOT_TOKEN,
          SLACK_SIGNING_SECRET: signingSecret,
          SLACK_API_URL: standin.url,
          PORT: '0',
          TEMPORAL_ADDRESS: conn.address,
          ...(conn.uiUrl ? { ROLLOUT_TEMPORAL_UI_URL: conn.uiUrl } : {}),
        },
        {
          configPath,
          signal: botAbort.signal,
          onReady: (info) => {
            botPort = info.port;
            resolve();
          },
          connect: (env) => connectTemporal(env, { address: conn.address, namespace: conn.namespace, ui: false }),
        },
      );
      botDone.catch(reject);
      stops.push(async () => {
        botAbort.abort();
        await botDone.catch(() => undefined);
      });
    });
    await botReady;

    const consoleServer = await startConsole({
      standin,
      botEventsUrl: `http://127.0.0.1:${botPort}/slack/events`,
      signingSecret,
      channel: LOCAL_CHANNEL,
      user: LOCAL_USERS[0] as { id: string; name: string },
      users: LOCAL_USERS.slice(1),
      ...(o.consolePort !== undefined ? { port: o.consolePort } : {}),
      extraPanels: async () => {
        const [versions, pool] = await Promise.all([farm.versions(), farm.poolState()]);
        return {
          [`Demo farm (${farm.transport}, ${farm.lb})`]: Object.fromEntries(
            farm.servers.map((s) => [s.name, `${versions[s.name] ?? '?'} · ${pool[s.name] ?? '?'}`]),
          ),
        };
      },
    });
    stops.push(() => consoleServer.close());

    return {
      consoleUrl: consoleServer.url,
      ...(conn.uiUrl ? { temporalUiUrl: conn.uiUrl } : {}),
      temporalAddress: conn.address,
      farm,
      standin,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
