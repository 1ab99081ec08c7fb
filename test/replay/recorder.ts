// What every history recorder needs (recordInlineChain.ts and later ones): a scratch Temporal dev server (or
// TEMPORAL_TEST_ADDRESS), the rollout worker with local and SSH transports, a stand-in Slack activity worker, plans
// over local-transport targets in temp dirs, waiting on the summary, and writing a history file.
// (The older recorders, record*.ts, each carry their own copy of this; they are kept as they were recorded.)
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
import { getSummary } from '../../src/temporal/client';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutSummary } from '../../workflows/messages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

export interface Recorder {
  client: Client;
  taskQueue: string;
  /** The Slack thread a plan can carry (its events go to the stand-in Slack worker). */
  slack: { channel: string; ts: string; taskQueue: string };
  localTargets(n: number): TargetPlan[];
  planOf(
    targets: TargetPlan[],
    spec: Record<string, unknown>,
    variables?: Record<string, string>,
  ): ReturnType<typeof buildPlan>;
  until(workflowId: string, pred: (s: RolloutSummary) => boolean): Promise<RolloutSummary>;
  save(name: string, workflowId: string): Promise<void>;
  /** Every run of a workflow that continued as new: `<name>.run1.json`, `.run2.json`, … */
  saveRuns(name: string, workflowId: string, firstRunId: string): Promise<void>;
}

/** Runs `record` with workers up, then shuts everything down. `name` keeps queues and temp dirs apart. */
export async function withRecorder(name: string, record: (r: Recorder) => Promise<void>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer(`replay-${name}-`);
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `replay-record-${name}`;
  const slackQueue = `replay-record-${name}-slack`;
  const native = await NativeConnection.connect({ address });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const worker = await createRolloutWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    deps: { transports: { ssh: new SshTransport(), local: new LocalTransport() } },
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
  const recorder: Recorder = {
    client,
    taskQueue,
    slack: { channel: 'C_DEPLOYS', ts: '1700000000.000000', taskQueue: slackQueue },
    localTargets(n) {
      const dir = mkdtempSync(path.join(os.tmpdir(), `replay-${name}-`));
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
    },
    planOf(targets, spec, variables) {
      const cfg = validateConfig(
        {
          targets: Object.fromEntries(
            targets.map((t) => [t.name, { transport: 'local', tags: ['web'], workdir: t.workdir }]),
          ),
          deployables: { [name]: { targets: ['tag:web'], approvers: ['U_ALICE', 'U_BOB'], ...spec } },
        },
        `replay-record-${name}`,
        '/',
      );
      return buildPlan(cfg, {
        deployable: name,
        release: 'v2',
        requestedBy: 'U_ALICE',
        ...(variables ? { variables } : {}),
      });
    },
    async until(workflowId, pred) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const s = await getSummary(client, workflowId);
          if (pred(s)) return s;
        } catch {
          // not started yet
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting on ${workflowId}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async save(file, workflowId) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(path.join(OUT, `${file}.json`), historyFileText(workflowId, history));
      console.log(`  ${file}.json: ${history.events?.length} events`);
    },
    async saveRuns(file, workflowId, firstRunId) {
      let runId: string | undefined = firstRunId;
      for (let run = 1; runId; run++) {
        const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
        writeFileSync(path.join(OUT, `${file}.run${run}.json`), historyFileText(workflowId, history));
        console.log(`  ${file}.run${run}.json: ${history.events?.length} events`);
        runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
    },
  };
  try {
    await worker.runUntil(() => slackWorker.runUntil(() => record(recorder)));
  } finally {
    await native.close();
    await connection.close();
    await server?.stop();
  }
}
