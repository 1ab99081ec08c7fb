// The bot as its own OS process (for crash tests): `tsx test/bot/botProcess.ts` with the usual environment
// (TEMPORAL_ADDRESS, ROLLOUT_TASK_QUEUE, ROLLOUT_CONFIG, SLACK_*, PORT). Prints "ready <port>" when listening.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runBot } from '../../src/bot/main';
import { loadEnv } from '../../src/env';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop.abort());
await runBot(loadEnv(process.env), {
  signal: stop.signal,
  deliveryTimeoutMs: Number(process.env.BOT_DELIVERY_TIMEOUT_MS ?? 5000),
  onReady: (info) => console.log(`ready ${info.port}`),
});
