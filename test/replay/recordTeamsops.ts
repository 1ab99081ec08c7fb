// Records the teams histories replay.test.ts replays (issue 14, branch teamsops): a decision reminded and escalated
// (patched 'teamsops.reminders'), a release check that fails and one that passes before an artifact child step
// (patched 'teamsops.release-check'), as recordSteering.ts does: a scratch Temporal dev server, local-transport
// targets in temp dirs, a stand-in Slack activity worker; written to test/replay/histories/teams-*.json.
// Re-record only on purpose.
//
//   node --import tsx test/replay/recordTeamsops.ts      (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
import { createHash } from 'node:crypto';
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
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { RolloutSummary } from '../../workflows/messages';
import { historyFileText } from './historyFiles';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

function localTargets(n: number): TargetPlan[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-teams-'));
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
      deployables: { teams: { targets: ['tag:web'], approvers: ['U_ALICE', 'U_BOB'], ...spec } },
    },
    'replay-record-teams',
    '/',
  );
  return buildPlan(cfg, {
    deployable: 'teams',
    release: 'v2',
    requestedBy: 'U_ALICE',
    ...(variables ? { variables } : {}),
  });
}

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
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-teams-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record-teams';
  const slackQueue = 'replay-record-teams-slack';
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
  const files = mkdtempSync(path.join(os.tmpdir(), 'replay-teams-files-'));
  const body = 'app v2\n';
  writeFileSync(path.join(files, 'app-v2.txt'), body);
  writeFileSync(
    path.join(files, 'app-v2.txt.sha256'),
    `${createHash('sha256').update(body).digest('hex')}  app-v2.txt\n`,
  );

  await worker.runUntil(() =>
    slackWorker.runUntil(async () => {
      // 1. A failure reminded after 1 s and escalated to a channel after 2 s, then retried; a manual step answered
      //    before its reminder. From Slack.
      {
        const targets = localTargets(2);
        const plan = {
          ...planOf(targets, {
            reminders: { after: 1, escalateAfter: 2, escalateTo: '#ops-oncall' },
            process: [
              {
                type: 'rolling',
                name: 'deploy',
                window: 1,
                childSteps: [
                  { name: 'drain', script: 'touch drained' },
                  {
                    name: 'install',
                    script: 'if [ #{Machine.Name} = app1 ] && [ ! -f fixed ]; then exit 3; fi',
                  },
                ],
              },
              { type: 'manual', name: 'approve', instructions: 'Proceed?' },
            ],
          }),
          slack,
        };
        const h = await startRollout(client, taskQueue, plan, 'replay-teams-reminders');
        await until(client, h.workflowId, (x) => x.pendingDecisions[0]?.escalatedAt !== undefined);
        writeFileSync(path.join(targets[0]!.workdir, 'fixed'), '');
        await decide(client, h.workflowId, 'd1', 'retry', 'U_BOB');
        await until(client, h.workflowId, (x) => x.pendingDecisions[0]?.kind === 'manual');
        await decide(client, h.workflowId, 'd2', 'proceed', 'U_ALICE');
        await h.result();
        await save(client, 'teams-reminders', h.workflowId);
      }
      // 2. A release check that fails: no step runs.
      {
        const plan = planOf(localTargets(2), {
          releaseCheck: { script: 'echo "no such release" >&2; exit 4', workdir: path.join(files, 'check') },
          process: [{ name: 'deploy', script: 'touch deployed' }],
        });
        const h = await startRollout(client, taskQueue, plan, 'replay-teams-release-check-failed');
        await h.result();
        await save(client, 'teams-release-check-failed', h.workflowId);
      }
      // 3. A release check that passes, then an artifact child step (verified, placed, pruned) and its use.
      {
        const plan = planOf(localTargets(2), {
          releaseCheck: { script: `test -f ${files}/app-#{Release}.txt.sha256`, workdir: path.join(files, 'check') },
          process: [
            {
              type: 'rolling',
              name: 'deploy',
              window: 1,
              childSteps: [
                { name: 'fetch', artifact: { source: `${files}/app-#{Release}.txt`, keep: 2 } },
                { name: 'use', script: 'cat releases/#{Release}/app-#{Release}.txt > used' },
              ],
            },
          ],
        });
        const h = await startRollout(client, taskQueue, plan, 'replay-teams-release-check-artifact');
        const r = await h.result();
        if (r.status !== 'succeeded') throw new Error(`artifact rollout ${r.status}: ${r.summary.stopReason}`);
        await save(client, 'teams-release-check-artifact', h.workflowId);
      }
      // 4. Two deployables on one shared (local) target: the second waits for the first's lock; and the lock.
      {
        const [t] = localTargets(1);
        const chain = [
          { type: 'rolling', name: 'deploy', window: 1, childSteps: [{ name: 'work', script: 'sleep 1' }] },
        ];
        const cfg = validateConfig(
          {
            targets: { box: { transport: 'local', tags: ['web'], workdir: t!.workdir, shared: true } },
            deployables: { a: { targets: ['box'], process: chain }, b: { targets: ['box'], process: chain } },
          },
          'replay-record-teams-shared',
          '/',
        );
        const ha = await startRollout(
          client,
          taskQueue,
          buildPlan(cfg, { deployable: 'a', release: 'v1', requestedBy: 'U_ALICE' }),
          'replay-teams-shared-a',
        );
        await until(client, ha.workflowId, (x) => x.steps[0]!.inFlightCount === 1 && !x.waitingOnTargets);
        const hb = await startRollout(
          client,
          taskQueue,
          buildPlan(cfg, { deployable: 'b', release: 'v1', requestedBy: 'U_ALICE' }),
          'replay-teams-shared-b',
        );
        await until(client, hb.workflowId, (x) => (x.waitingOnTargets?.length ?? 0) > 0);
        await ha.result();
        await hb.result();
        await save(client, 'teams-shared-target', hb.workflowId);
        await save(client, 'teams-target-lock', `target-lock:local:${t!.workdir}`);
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
