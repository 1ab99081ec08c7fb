// Records the histories of the `scale.step-continue` path (workflows/rollout/stepContinue.ts) that replay.test.ts
// replays: one rollout whose rolling step continues as new in its middle (a small threshold), with a failure
// answered Ignore in one run and the next step reading an output carried packed, every run written as
// test/replay/histories/scale-step-continue.runN.json. Kept apart so re-recording these never re-records the others.
//
//   node --import tsx test/replay/recordStepContinue.ts   (or TEMPORAL_TEST_ADDRESS=host:port for a running server)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { decide, getSummary, startRollout } from '../../src/temporal/client';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutSummary } from '../../workflows/messages';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

async function until(client: Client, id: string, pred: (s: RolloutSummary) => boolean): Promise<RolloutSummary> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = await getSummary(client, id);
      if (pred(s)) return s;
    } catch {
      // not started yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${id}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-sc-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-step-continue';
  const native = await NativeConnection.connect({ address });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const ssh = new SshTransport();
  const local = new LocalTransport();
  const worker = await createRolloutWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    deps: { transports: { ssh, local } },
    workflowBundle: { code },
  });
  const running = worker.run();
  try {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-sc-'));
    const targets = Array.from({ length: 12 }, (_, i) => [
      `app${i + 1}`,
      { transport: 'local', tags: ['web'], workdir: path.join(dir, `app${i + 1}`) },
    ]);
    const deployables = {
      app: {
        targets: ['tag:web'],
        approvers: ['U_ALICE', 'U_BOB'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 3,
            childSteps: [
              { name: 'install', script: '[ #{Machine.Name} != app2 ] || exit 7' },
              { name: 'probe', script: 'set_output Ok True' },
            ],
          },
          { name: 'after', script: 'echo after > after', if: 'Output.probe.Ok == "True"' },
        ],
      },
    };
    const cfg = validateConfig({ targets: Object.fromEntries(targets), deployables }, 'replay-record', '/');
    const plan = buildPlan(cfg, { deployable: 'app', release: 'v2', requestedBy: 'U_ALICE' });
    const h = await startRollout(client, taskQueue, plan, 'replay-step-continue', {
      continueAsNewAfterEvents: 40,
    });
    const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
    await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
    const result = await h.result();
    if (result.status !== 'succeeded') throw new Error(`rollout ${result.status}`);
    let runId: string | undefined = h.firstExecutionRunId;
    for (let run = 1; runId; run++) {
      const history = await client.workflow.getHandle(h.workflowId, runId).fetchHistory();
      const file = `scale-step-continue.run${run}.json`;
      writeFileSync(path.join(OUT, file), historyFileText(h.workflowId, history));
      console.log(`  ${file}: ${history.events?.length} events`);
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  } finally {
    worker.shutdown();
    await running;
    await ssh.close();
    await local.close();
    await native.close();
    await connection.close();
    await server?.stop();
  }
}

await main();
