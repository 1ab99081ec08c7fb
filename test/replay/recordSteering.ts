// Records the steering histories replay.test.ts replays (ramped windows, MaxParallelism, pause / resume / window
// change, a deploy freeze beginning and ending mid-rollout), as record.ts does for the others: run for real on a
// scratch Temporal dev server with local-transport targets in temp dirs and a stand-in Slack activity worker, then
// written to test/replay/histories/steer-*.json. Kept apart from record.ts so that re-recording these never
// re-records the older files. Re-record only on purpose.
//
//   node --import tsx test/replay/recordSteering.ts      (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createApproverActivities } from '../../activities/approvers';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import type { TargetPlan } from '../../domain/plan';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { decide, getSummary, startRollout } from '../../src/temporal/client';
import { pauseRollout, resumeRollout, setRolloutWindow } from '../../src/temporal/steering';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutSummary } from '../../workflows/messages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

function localTargets(n: number): TargetPlan[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-steer-'));
  return Array.from({ length: n }, (_, i) => ({
    name: `app${i + 1}`,
    transport: 'local' as const,
    host: 'localhost',
    port: 22,
    user: '',
    tags: ['web'],
    workdir: path.join(dir, `app${i + 1}`),
    strictHostKeyChecking: true,
    variables: {},
  }));
}

function planOf(targets: TargetPlan[], spec: Record<string, unknown>, variables?: Record<string, string>) {
  const cfg = validateConfig(
    {
      targets: Object.fromEntries(
        targets.map((t) => [t.name, { transport: 'local', tags: ['web'], workdir: t.workdir }]),
      ),
      deployables: { steer: { targets: ['tag:web'], approvers: ['U_ALICE', 'U_BOB'], ...spec } },
    },
    'replay-record-steering',
    '/',
  );
  return buildPlan(cfg, {
    deployable: 'steer',
    release: 'v2',
    requestedBy: 'U_ALICE',
    ...(variables ? { variables } : {}),
  });
}

const rolling = (window: unknown, work = 'sleep 0.5') => [
  {
    type: 'rolling',
    name: 'deploy',
    ...(window !== undefined ? { window } : {}),
    childSteps: [{ name: 'work', script: work }],
  },
];

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

async function save(client: Client, name: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(path.join(OUT, `${name}.json`), historyFileText(workflowId, history));
  console.log(`  ${name}.json: ${history.events?.length} events`);
}

async function main(): Promise<void> {
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-steer-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-steer';
  const slackQueue = 'replay-record-steer-slack';
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
  let posted = 0;
  const slackWorker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: slackQueue,
    activities: {
      ...createApproverActivities({}),
      async slackThreadEvent() {
        return { ts: `1700000000.${String(++posted).padStart(6, '0')}` };
      },
    },
  });
  const slack = { channel: 'C_DEPLOYS', ts: '1700000000.000000', taskQueue: slackQueue };

  await worker.runUntil(() =>
    slackWorker.runUntil(async () => {
      // 1. A ramp [1, 2, 50%] over 5 targets with a 1 s bake and a manual Proceed between stages, from Slack.
      {
        const plan = {
          ...planOf(localTargets(5), {
            process: rolling(undefined).map((s) => ({
              ...s,
              ramp: { window: [1, 2, '50%'], between: { bakeSec: 1, manual: true } },
            })),
          }),
          slack,
        };
        const h = await startRollout(client, taskQueue, plan, 'replay-steer-ramp');
        for (let answered = 0; answered < 3; answered++) {
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1 || x.status !== 'running');
          if (s.status !== 'running') break;
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'proceed', 'U_BOB');
        }
        await h.result();
        await save(client, 'steer-ramp', h.workflowId);
      }
      // 2. Paused, its window changed while paused, resumed (from Slack: every change is a thread note).
      {
        const plan = { ...planOf(localTargets(4), { process: rolling(1, 'sleep 1') }), slack };
        const h = await startRollout(client, taskQueue, plan, 'replay-steer-pause-resume');
        await until(client, h.workflowId, (x) => x.steps[0]!.counts.succeeded >= 1);
        await pauseRollout(client, h.workflowId, 'U_BOB', 'checking');
        await until(client, h.workflowId, (x) => x.steps[0]!.inFlightCount === 0);
        const refused = await pauseRollout(client, h.workflowId, 'U_MALLORY');
        if (refused.outcome !== 'rejected') throw new Error('a pause by U_MALLORY was not refused');
        await setRolloutWindow(client, h.workflowId, 2, 'U_ALICE');
        await resumeRollout(client, h.workflowId, 'U_ALICE');
        await h.result();
        await save(client, 'steer-pause-resume', h.workflowId);
      }
      // 3. MaxParallelism=2 over a window of 1.
      {
        const plan = planOf(localTargets(3), { process: rolling(1) }, { MaxParallelism: '2' });
        const h = await startRollout(client, taskQueue, plan, 'replay-steer-max-parallelism');
        await h.result();
        await save(client, 'steer-max-parallelism', h.workflowId);
      }
      // 4. A freeze beginning 2 s into the rollout, for 2 s: held by durable timers, resumed by itself.
      {
        const from = new Date(Date.now() + 2000);
        const freezes = [
          {
            name: 'short',
            from: from.toISOString(),
            until: new Date(from.getTime() + 2000).toISOString(),
            reason: 'r',
          },
        ];
        const plan = { ...planOf(localTargets(4), { freezes, process: rolling(1, 'sleep 1') }), slack };
        const h = await startRollout(client, taskQueue, plan, 'replay-steer-freeze');
        await h.result();
        await save(client, 'steer-freeze', h.workflowId);
      }
    }),
  );
  await ssh.close();
  await local.close();
  await native.close();
  await connection.close();
  await server?.stop();
}

await main();
