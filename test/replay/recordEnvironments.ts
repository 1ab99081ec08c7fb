// Records the histories of environments and four eyes (branch teamsenv) that replay.test.ts replays: a release
// refused in production before it succeeded in staging, then promoted; production's start approval refused to its
// starter and given by someone else. Run for real against a scratch Temporal dev server with local-transport
// targets, written as JSON to test/replay/histories/. Re-record only on purpose.
//
//   node --import tsx test/replay/recordEnvironments.ts   (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { REFUSAL } from '../../domain/failures';
import {
  decide,
  enqueueRollout,
  getSummary,
  refusalOf,
  rolloutHandle,
  waitUntilStarted,
} from '../../src/temporal/client';
import { getReleaseHistory } from '../../src/temporal/deployables';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

async function main(): Promise<void> {
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-record-envs-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-envs';
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

  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-record-envs-'));
  const deployable = 'envs';
  const names = ['stage1', 'prod1', 'prod2'];
  const config = validateConfig(
    {
      targets: Object.fromEntries(
        names.map((n) => [
          n,
          { transport: 'local', tags: [n.startsWith('stage') ? 'staging' : 'production'], workdir: path.join(dir, n) },
        ]),
      ),
      deployables: {
        [deployable]: {
          onFailure: 'fail',
          environments: {
            staging: { targets: ['tag:staging'] },
            production: { targets: ['tag:production'], fourEyes: true },
          },
          lifecycle: ['staging', 'production'],
          process: [
            { type: 'manual', name: 'smoke-test', instructions: 'Check #{Environment}', fourEyes: true },
            {
              type: 'rolling',
              name: 'deploy',
              window: 1,
              childSteps: [{ name: 'install', script: 'printf %s #{Release} > version' }],
            },
          ],
        },
      },
    },
    'replay-record-envs',
    '/',
  );
  const plan = (environment: string, by: string) =>
    buildPlan(config, { deployable, release: 'v2', requestedBy: by, environment });
  /** Answers each pending decision: first as the starter (refused by four eyes), then as someone else. */
  const approveAll = async (rolloutId: string, starter: string, other: string) => {
    const answered = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const s = await getSummary(client, rolloutId).catch(() => undefined);
      if (s && s.status !== 'running') return;
      for (const d of s?.pendingDecisions ?? []) {
        if (answered.has(d.id)) continue;
        const own = await decide(client, rolloutId, d.id, 'proceed', starter);
        if (own.outcome !== 'rejected') throw new Error(`four eyes let ${starter} approve ${d.id}`);
        const ok = await decide(client, rolloutId, d.id, 'proceed', other);
        if (ok.outcome !== 'accepted') throw new Error(`${other} could not approve ${d.id}: ${JSON.stringify(ok)}`);
        answered.add(d.id);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${rolloutId} never ended`);
  };
  const recorded = async (n: number) => {
    for (let i = 0; i < 100; i++) {
      if ((await getReleaseHistory(client, taskQueue, deployable))?.releases.length === n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the history never held ${n} releases`);
  };

  await worker.runUntil(async () => {
    const early = await enqueueRollout(client, taskQueue, plan('production', 'U_BOB')).then(
      () => undefined,
      (e: unknown) => refusalOf(e),
    );
    if (early?.type !== REFUSAL.promotionRefused)
      throw new Error(`production took v2 before staging: ${JSON.stringify(early)}`);
    const staged = await enqueueRollout(client, taskQueue, plan('staging', 'U_ALICE'));
    await waitUntilStarted(client, staged.rolloutId, 100);
    await approveAll(staged.rolloutId, 'U_ALICE', 'U_BOB');
    await rolloutHandle(client, staged.rolloutId).result();
    await recorded(1);
    const { rolloutId } = await enqueueRollout(client, taskQueue, plan('production', 'U_BOB'));
    await waitUntilStarted(client, rolloutId, 100);
    await approveAll(rolloutId, 'U_BOB', 'U_CAROL');
    const result = await rolloutHandle(client, rolloutId).result();
    if (result.status !== 'succeeded') throw new Error(`production ${result.status}`);
    await recorded(2);
    const history = await client.workflow.getHandle(rolloutId).fetchHistory();
    writeFileSync(path.join(OUT, 'env-four-eyes.json'), historyFileText(rolloutId, history));
    console.log(`  env-four-eyes.json: ${history.events?.length} events`);
    const qid = deployableWorkflowId(deployable, taskQueue);
    const queue = await client.workflow.getHandle(qid).fetchHistory();
    writeFileSync(path.join(OUT, 'env-promotion-queue.json'), historyFileText(qid, queue));
    console.log(`  env-promotion-queue.json: ${queue.events?.length} events`);
    await client.workflow.getHandle(qid).terminate('recorded');
  });
  await ssh.close();
  await local.close();
  await native.close();
  await connection.close();
  await server?.stop();
}

await main();
