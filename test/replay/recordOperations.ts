// Records the histories of the day-to-day operations (release history, locks, rollback, partial rollback) that
// replay.test.ts replays, like record.ts does for the rest: run for real against a scratch Temporal dev server
// with local-transport targets, then written as JSON to test/replay/histories/. Kept apart from record.ts so the
// earlier recordings are never re-made by running this one. Re-record only on purpose.
//
//   node --import tsx test/replay/recordOperations.ts   (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
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
import { enqueueRollout, rolloutHandle, waitUntilStarted } from '../../src/temporal/client';
import { getReleaseHistory, lockDeployable, unlockDeployable } from '../../src/temporal/deployables';
import { prepareRollback } from '../../src/temporal/rollback';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

async function main(): Promise<void> {
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-record-ops-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-ops';
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

  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-record-ops-'));
  const deployable = 'ops';
  const names = ['app1', 'app2', 'app3', 'app4'];
  const config = validateConfig(
    {
      targets: Object.fromEntries(
        names.map((n) => [n, { transport: 'local', tags: ['web'], workdir: path.join(dir, n) }]),
      ),
      deployables: {
        [deployable]: {
          targets: ['tag:web'],
          onFailure: 'fail',
          process: [
            {
              type: 'rolling',
              name: 'deploy',
              window: 1,
              childSteps: [
                {
                  name: 'install',
                  script:
                    'if [ #{Machine.Name} = app3 ] && [ #{Release} = v3 ]; then exit 4; fi; printf %s #{Release} > version',
                },
              ],
            },
          ],
        },
      },
    },
    'replay-record-ops',
    '/',
  );
  const run = async (release: string, by = 'U_ALICE') => {
    const { rolloutId } = await enqueueRollout(
      client,
      taskQueue,
      buildPlan(config, { deployable, release, requestedBy: by }),
    );
    await waitUntilStarted(client, rolloutId, 100);
    await rolloutHandle(client, rolloutId).result();
  };
  const recorded = async (n: number) => {
    for (let i = 0; i < 100; i++) {
      if ((await getReleaseHistory(client, taskQueue, deployable))?.releases.length === n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the history never held ${n} releases`);
  };

  await worker.runUntil(async () => {
    // v1 and v2 succeed; a lock, refused to another, taken over, unlocked; v3 fails on app3; then a partial
    // rollback to v2 on app3, app2, app1 (the targets v3 reached, last first).
    await run('v1');
    await run('v2', 'U_BOB');
    await lockDeployable(client, taskQueue, deployable, { by: 'U_ALICE', reason: 'db migration' });
    const refused = await lockDeployable(client, taskQueue, deployable, { by: 'U_BOB', reason: 'mine' });
    if (refused.outcome !== 'rejected') throw new Error('a second lock was not refused');
    await lockDeployable(client, taskQueue, deployable, { by: 'U_BOB', reason: 'incident', takeOver: true });
    await unlockDeployable(client, taskQueue, deployable, 'U_BOB');
    await run('v3');
    await recorded(3);
    const partial = await prepareRollback(client, taskQueue, config, { deployable, requestedBy: 'U_CAROL' });
    if (!partial.ok || !partial.choice.partial) throw new Error(`no partial rollback: ${JSON.stringify(partial)}`);
    const { rolloutId } = await enqueueRollout(client, taskQueue, partial.plan);
    await waitUntilStarted(client, rolloutId, 100);
    await rolloutHandle(client, rolloutId).result();
    await recorded(4);
    const history = await client.workflow.getHandle(rolloutId).fetchHistory();
    writeFileSync(path.join(OUT, 'rollback-partial.json'), historyFileText(rolloutId, history));
    console.log(`  rollback-partial.json: ${history.events?.length} events`);
    // The queue workflow runs on (waiting for the next rollout): its history so far is what replays.
    const qid = deployableWorkflowId(deployable, taskQueue);
    const queue = await client.workflow.getHandle(qid).fetchHistory();
    writeFileSync(path.join(OUT, 'deployable-operations.json'), historyFileText(qid, queue));
    console.log(`  deployable-operations.json: ${queue.events?.length} events`);
    await client.workflow.getHandle(qid).terminate('recorded');
  });
  await ssh.close();
  await local.close();
  await native.close();
  await connection.close();
  await server?.stop();
}

await main();
