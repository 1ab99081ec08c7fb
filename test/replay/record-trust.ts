// Records the histories of the paths the `trust` work added (honest outcomes, the queue's settled position), next
// to the ones record.ts made, without re-recording those: they must stay what EARLIER code wrote.
//
//   node --import tsx test/replay/record-trust.ts       (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import {
  decide,
  enqueueRollout,
  getSummary,
  startRollout,
  waitUntilStarted,
  rolloutHandle,
} from '../../src/temporal/client';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import type { RolloutSummary } from '../../workflows/messages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));
Runtime.install({ logger: new DefaultLogger('WARN') });

const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-record-trust-'));
const local = (name: string) => ({ transport: 'local', tags: ['web'], workdir: path.join(dir, name) });
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'key')]);
// Nothing listens on this loopback address: connection refused, the script never starts.
const unreachable = {
  transport: 'ssh',
  host: '127.0.7.3',
  user: 'deploy',
  tags: ['web'],
  privateKeyPath: path.join(dir, 'key'),
  strictHostKeyChecking: false,
};

function plan(targets: Record<string, unknown>, deployable: string, spec: Record<string, unknown>, release = 'v2') {
  const cfg = validateConfig(
    { targets, deployables: { [deployable]: { targets: ['tag:web'], approvers: ['U_ALICE'], ...spec } } },
    'replay-record-trust',
    '/',
  );
  return buildPlan(cfg, { deployable, release, requestedBy: 'U_ALICE' });
}

async function until(client: Client, id: string, pred: (s: RolloutSummary) => boolean): Promise<RolloutSummary> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const s = await getSummary(client, id).catch(() => undefined);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${id}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function save(client: Client, name: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(path.join(OUT, `${name}.json`), historyFileText(workflowId, history));
  console.log(`  ${name}.json: ${history.events?.length} events`);
}

const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-record-trust-');
const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
const connection = await Connection.connect({ address });
const client = new Client({ connection, namespace: 'default' });
const taskQueue = 'replay-record-trust';
const native = await NativeConnection.connect({ address });
const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
const ssh = new SshTransport();
const localTransport = new LocalTransport();
const worker = await createRolloutWorker({
  connection: native,
  namespace: 'default',
  taskQueue,
  deps: { transports: { ssh, local: localTransport } },
  workflowBundle: { code },
});
const failing = {
  type: 'rolling',
  name: 'deploy',
  window: 2,
  childSteps: [{ name: 'install', script: '[ #{Machine.Name} = ok ] || exit 3' }],
};

await worker.runUntil(async () => {
  // 1. Ignore on a never-run failure: the target is skipped (not run), the other one deployed.
  {
    const p = plan({ ok: local('ok'), far: unreachable }, 'honest', { process: [failing] });
    const h = await startRollout(client, taskQueue, p, 'replay-honest-not-run');
    const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
    await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
    await h.result();
    await save(client, 'honest-not-run-ignored', h.workflowId);
  }
  // 2. Nothing deployed: one target excluded, the other never reached and ignored; the next step is skipped.
  {
    const p = plan({ bad: local('bad'), far: unreachable }, 'nowhere', {
      process: [failing, { name: 'after', script: 'touch after' }],
    });
    const h = await startRollout(client, taskQueue, p, 'replay-honest-nothing-deployed');
    const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 2);
    for (const d of s.pendingDecisions) {
      await decide(client, h.workflowId, d.id, d.target === 'far' ? 'ignore' : 'exclude', 'U_ALICE');
    }
    await h.result();
    await save(client, 'honest-nothing-deployed', h.workflowId);
  }
  // 3. The queue with the settled position: two requests, the second behind the first, both run.
  {
    const spec = { process: [{ name: 'deploy', script: 'sleep 1' }] };
    const targets = { a: local('qa') };
    const first = await enqueueRollout(client, taskQueue, plan(targets, 'settled', spec, 'v1'), 'replay-settled-v1');
    const second = await enqueueRollout(client, taskQueue, plan(targets, 'settled', spec, 'v2'), 'replay-settled-v2');
    if (first.position !== 0 || second.position !== 1)
      throw new Error(`positions ${first.position}, ${second.position}`);
    await waitUntilStarted(client, second.rolloutId);
    await rolloutHandle(client, second.rolloutId).result();
    const qid = deployableWorkflowId('settled', taskQueue);
    for (let i = 0; i < 50; i++) {
      const st = await client.workflow
        .getHandle(qid)
        .query<{ running?: unknown; recent: unknown[] }>('deployableState');
      if (!st.running && st.recent.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await save(client, 'deployable-queue-settled', qid);
    await client.workflow.getHandle(qid).terminate('recorded');
  }
});
await ssh.close();
await localTransport.close();
await native.close();
await connection.close();
await server?.stop();
