// Benchmark: history and query sizes of one rollout over many targets (default 1,000), local transport.
// Prints the rollout workflow's history length and size, the largest child history, and the summary and
// target-page query sizes, against Temporal's limits (51,200 events / 50 MB per history; 2 MB per payload).
//   ROLLOUT_SCALE_TARGETS=1000 npm run bench:scale
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { LocalTransport } from '../activities/transports/local';
import { validateConfig } from '../src/config/load';
import { buildPlan } from '../src/config/plan';
import { getSummary, getTargets, startRollout } from '../src/temporal/client';
import { startScratchDevServer } from '../dev/scratchDevServer';
import { createRolloutWorker, installRuntimeLogging } from '../src/temporal/worker';

installRuntimeLogging('WARN');
const N = Number(process.env.ROLLOUT_SCALE_TARGETS ?? 1000);
const server = await startScratchDevServer('bench-temporal-');
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const native = await NativeConnection.connect({ address: server.address });
const local = new LocalTransport();
const worker = await createRolloutWorker({
  connection: native,
  namespace: 'default',
  taskQueue: 'bench-scale',
  deps: { transports: { local } },
  tuning: { maxConcurrentActivityTaskExecutions: 100 },
});
const running = worker.run();

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-targets-'));
const targets = Object.fromEntries(
  Array.from({ length: N }, (_, i) => [
    `t${i + 1}`,
    { transport: 'local', tags: ['web'], workdir: path.join(dir, `t${i + 1}`) },
  ]),
);
const cfg = validateConfig(
  {
    targets,
    deployables: {
      farm: {
        targets: ['tag:web'],
        process: [
          { name: 'prepare', script: 'true' },
          {
            type: 'rolling',
            name: 'deploy',
            window: '5%',
            childSteps: [
              { name: 'a', script: 'echo a' },
              { name: 'b', script: 'set_output Ok True' },
              { name: 'c', script: 'echo c', if: 'Output.b.Ok == "True"' },
            ],
          },
        ],
      },
    },
  },
  'bench',
  '/',
);
const plan = buildPlan(cfg, { deployable: 'farm', release: 'v1', requestedBy: 'bench' });
const t0 = performance.now();
const handle = await startRollout(client, 'bench-scale', plan);
let maxSummary = 0;
const poll = setInterval(() => {
  getSummary(client, handle.workflowId)
    .then((s) => (maxSummary = Math.max(maxSummary, JSON.stringify(s).length)))
    .catch(() => undefined);
}, 2000);
const result = await handle.result();
clearInterval(poll);
const seconds = (performance.now() - t0) / 1000;
const history = await handle.fetchHistory();
const events = history.events?.length ?? 0;
const historyBytes = JSON.stringify(history).length;
const page = await getTargets(client, handle.workflowId, { offset: 0, limit: 50 });
const one = await getTargets(client, handle.workflowId, { target: 't1' });
const summary = await getSummary(client, handle.workflowId);
console.log(
  `${N} targets, 2 steps (script; rolling window 5% with 3 child steps): ${result.status} in ${seconds.toFixed(1)} s`,
);
console.log(
  `rollout workflow history: ${events} events (${(events / N).toFixed(1)} per target; limit 51,200 → ${((events / 51200) * 100).toFixed(1)}%), ~${(historyBytes / 1e6).toFixed(2)} MB as JSON (limit 50 MB)`,
);
console.log(
  `summary query: ${JSON.stringify(summary).length} bytes (largest seen while running ${maxSummary}); page of 50 targets: ${JSON.stringify(page).length} bytes; one target: ${JSON.stringify(one).length} bytes (payload limit 2 MB)`,
);
worker.shutdown();
await running;
await native.close();
await connection.close();
await server.stop();
