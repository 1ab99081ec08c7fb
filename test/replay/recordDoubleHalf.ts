// Records the double-half histories replay.test.ts replays, as recordSteering.ts does for its own: run for real on a
// scratch Temporal dev server (old half: local-transport targets in temp dirs; new half: two real sshd instances on
// 127.0.22.31–32 that the provision script "creates" by printing them), then written to
// test/replay/histories/double-half-*.json. Kept apart so re-recording these never re-records the older files.
//
//   node --import tsx test/replay/recordDoubleHalf.ts   (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { startSshd } from '../../dev/farm/sshd';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { decide, getSummary, startRollout } from '../../src/temporal/client';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutSummary } from '../../workflows/messages';
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

async function save(client: Client, name: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(path.join(OUT, `${name}.json`), historyFileText(workflowId, history));
  console.log(`  ${name}.json: ${history.events?.length} events`);
}

async function main(): Promise<void> {
  const sshd = await startSshd({ count: 2, baseAddress: '127.0.22.31', namePrefix: 'new' });
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-dh-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-double-half';
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
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-dh-'));
  const planOf = (prefix: string, release: string) => {
    const printed = sshd.servers
      .map(
        (s, i) =>
          `echo '##rollout[target ${JSON.stringify({ name: `${prefix}${i + 1}`, host: s.host, port: s.port })}]'`,
      )
      .join('\n');
    const cfg = validateConfig(
      {
        targets: {
          old1: { transport: 'local', tags: ['web'], workdir: path.join(dir, prefix, 'old1') },
          old2: { transport: 'local', tags: ['web'], workdir: path.join(dir, prefix, 'old2') },
        },
        deployables: {
          farm: {
            targets: ['tag:web'],
            approvers: ['U_ALICE'],
            process: [
              {
                type: 'double-half',
                name: 'grow',
                window: 1,
                hookWorkdir: path.join(dir, prefix, 'hooks'),
                provision: { script: printed },
                addToLoadBalancer: { script: 'echo add $ROLLOUT_TARGETS' },
                decommission: { script: 'echo decommission $ROLLOUT_HALF $ROLLOUT_TARGETS' },
                newTargets: {
                  user: sshd.targets[0]!.user,
                  privateKeyPath: sshd.keyPath,
                  knownHostsPath: sshd.knownHostsPath,
                  workdir: path.join(dir, prefix, 'new'),
                },
                childSteps: [
                  { name: 'deploy', script: 'echo "$ROLLOUT_RELEASE" > release' },
                  { name: 'sanity', script: 'case "$ROLLOUT_RELEASE" in *-broken) exit 1;; esac' },
                ],
              },
            ],
          },
        },
      },
      'replay-record-double-half',
      '/',
    );
    return buildPlan(cfg, { deployable: 'farm', release, requestedBy: 'U_ALICE' });
  };

  await worker.runUntil(async () => {
    // 1. Provision two, deploy them one at a time, switch, decommission the old half.
    {
      const h = await startRollout(client, taskQueue, planOf('green', 'v2'), 'replay-double-half-success');
      const r = await h.result();
      if (r.status !== 'succeeded') throw new Error(`double-half success: ${r.status} ${r.summary.stopReason}`);
      await save(client, 'double-half-success', h.workflowId);
    }
    // 2. The new half's sanity check fails, a human answers Fail: the new half is decommissioned.
    {
      const h = await startRollout(client, taskQueue, planOf('blue', 'v3-broken'), 'replay-double-half-rolled-back');
      const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
      await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'fail', 'U_ALICE');
      const r = await h.result();
      if (r.summary.steps[0]?.doubleHalf?.phase !== 'rolled-back') throw new Error('double-half: not rolled back');
      await save(client, 'double-half-rolled-back', h.workflowId);
    }
  });
  await ssh.close();
  await local.close();
  await native.close();
  await connection.close();
  await server?.stop();
  await sshd.stop();
}

await main();
