// Records the histories test/replay/replay.test.ts replays: a handful of rollouts and one deployable queue, run
// for real (a scratch Temporal dev server, local-transport targets in temp dirs, a stand-in Slack activity worker),
// then written as JSON to test/replay/histories/. Re-record only on purpose (a deliberate, versioned change):
// the point of the files is that they were made by EARLIER code.
//
//   node --import tsx test/replay/record.ts            (or TEMPORAL_TEST_ADDRESS=host:port to use a running server)
//   REPLAY_RECORD_ONLY=slack-mentions node --import tsx test/replay/record.ts   (one later case alone: the cases
//   recorded before it stay as they were)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createApproverActivities } from '../../activities/approvers';
import type { TargetPlan } from '../../domain/plan';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import {
  cancelRollout,
  decide,
  enqueueRollout,
  getSummary,
  rolloutHandle,
  startRollout,
  waitUntilStarted,
  withdrawRollout,
} from '../../src/temporal/client';
import { startScratchDevServer } from '../../dev/scratchDevServer';
import { createRolloutWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { deployableWorkflowId } from '../../workflows/queueMessages';
import { historyFileText } from './historyFiles';
import type { RolloutSummary } from '../../workflows/messages';

const OUT = fileURLToPath(new URL('./histories/', import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

function localTargets(n: number): TargetPlan[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-record-'));
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

function planOf(
  targets: TargetPlan[],
  deployable: string,
  spec: Record<string, unknown>,
  release = 'v2',
  requestedBy = 'U_ALICE',
) {
  const cfg = validateConfig(
    {
      targets: Object.fromEntries(
        targets.map((t) => [t.name, { transport: 'local', tags: ['web'], workdir: t.workdir }]),
      ),
      deployables: { [deployable]: { targets: ['tag:web'], approvers: ['U_ALICE', 'U_BOB'], ...spec } },
    },
    'replay-record',
    '/',
  );
  return buildPlan(cfg, { deployable, release, requestedBy });
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

/** Writes every run of a workflow (first run first, following continue-as-new) as <name>[.runN].json. */
async function save(client: Client, name: string, workflowId: string, firstRunId?: string): Promise<void> {
  let runId = firstRunId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
  for (let run = 1; ; run++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = `${name}${run > 1 || firstRunId ? `.run${run}` : ''}.json`;
    writeFileSync(path.join(OUT, file), historyFileText(workflowId, history));
    console.log(`  ${file}: ${history.events?.length} events`);
    const last = history.events?.at(-1);
    const next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next || !firstRunId) return;
    runId = next;
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const server = process.env.TEMPORAL_TEST_ADDRESS ? undefined : await startScratchDevServer('replay-record-');
  const address = process.env.TEMPORAL_TEST_ADDRESS ?? (server as { address: string }).address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = 'replay-record';
  const slackQueue = 'replay-record-slack';
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
  // The bot's side of a Slack rollout: approvers expanded and thread events "posted" (each post gets a ts).
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

  const guidedProcess = [
    {
      type: 'rolling',
      name: 'deploy',
      window: 2,
      childSteps: [
        { name: 'remove', script: 'touch removed' },
        {
          name: 'install',
          script:
            'if [ #{Machine.Name} = app2 ] && [ ! -f fixed ]; then echo "health check failed" >&2; exit 3; fi; printf %s #{Release} > version',
        },
        { name: 'add-back', script: 'touch added-back' },
        { name: 'report', runCondition: 'always', script: 'touch reported' },
      ],
    },
    { name: 'after', script: 'touch after' },
  ];

  await Promise.all([
    worker.runUntil(async () => {
      await slackWorker.runUntil(async () => {
        // Cases added later can be recorded alone (REPLAY_RECORD_ONLY), leaving the earlier files as they were.
        const only = process.env.REPLAY_RECORD_ONLY;
        // 9. From Slack, cards that mention who may answer: a failure (the rollout's approvers) answered Retry,
        // then a manual step with approvers of its own answered Proceed.
        if (!only || only === 'slack-mentions') {
          const targets = localTargets(3);
          const plan = {
            ...planOf(targets, 'guided', {
              process: [
                ...guidedProcess,
                { type: 'manual', name: 'verify', instructions: 'Look.', approvers: ['U_CAROL'] },
              ],
            }),
            slack,
          };
          const h = await startRollout(client, taskQueue, plan, 'replay-slack-mentions');
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          writeFileSync(path.join(targets[1]!.workdir, 'fixed'), '');
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'retry', 'U_BOB');
          const m = await until(client, h.workflowId, (x) => x.pendingDecisions[0]?.kind === 'manual');
          await decide(client, h.workflowId, m.pendingDecisions[0]!.id, 'proceed', 'U_CAROL');
          await h.result();
          await save(client, 'slack-mentions', h.workflowId);
        }
        if (only) return;
        // 1. A guided failure answered Retry (once the cause is fixed): the chain re-runs from the failed child.
        {
          const targets = localTargets(3);
          const plan = planOf(targets, 'guided', { process: guidedProcess });
          const h = await startRollout(client, taskQueue, plan, 'replay-guided-retry');
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          writeFileSync(path.join(targets[1]!.workdir, 'fixed'), '');
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'retry', 'U_BOB');
          await h.result();
          await save(client, 'guided-retry', h.workflowId);
          // The chain of the failed target, before and after the retry.
          await save(client, 'chain-paused', `${h.workflowId}/0-deploy/app2/1`);
          await save(client, 'chain-retried', `${h.workflowId}/0-deploy/app2/2`);
        }
        // 2. Exclude, from Slack: the thread's outbox posts cards and outcomes through the bot's task queue.
        {
          const targets = localTargets(3);
          const plan = { ...planOf(targets, 'guided', { process: guidedProcess }), slack };
          const h = await startRollout(client, taskQueue, plan, 'replay-slack-exclude');
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'exclude', 'U_ALICE');
          await h.result();
          await save(client, 'slack-exclude', h.workflowId);
        }
        // 3. Fail: the stopping rule (in-flight targets finish, always child steps run, the next step is skipped).
        {
          const targets = localTargets(3);
          const plan = planOf(targets, 'guided', { process: guidedProcess });
          const h = await startRollout(client, taskQueue, plan, 'replay-guided-fail');
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'fail', 'U_ALICE');
          await h.result();
          await save(client, 'guided-fail', h.workflowId);
        }
        // 4. A manual step answered Proceed (its own approvers), then a manual step that times out into Abort.
        {
          const targets = localTargets(2);
          const plan = planOf(targets, 'manual', {
            process: [
              { name: 'before', script: 'touch before' },
              {
                type: 'manual',
                name: 'approve',
                instructions: 'Check the dashboard for #{Release}.',
                approvers: ['U_CAROL'],
              },
              { type: 'manual', name: 'second-look', instructions: 'Last chance.', timeoutSec: 1, onTimeout: 'abort' },
              { name: 'after', script: 'touch after' },
            ],
          });
          const h = await startRollout(client, taskQueue, plan, 'replay-manual');
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'proceed', 'U_CAROL');
          await h.result();
          await save(client, 'manual', h.workflowId);
        }
        // 5. Continue-as-new before every step after the first, carrying a decision and machine outputs.
        {
          const targets = localTargets(3);
          const plan = planOf(targets, 'can', {
            process: [
              {
                type: 'rolling',
                name: 'first',
                window: 2,
                childSteps: [
                  {
                    name: 'probe',
                    script:
                      'if [ #{Machine.Name} = app2 ]; then set_output Ready False; else set_output Ready True; fi',
                  },
                  { name: 'flaky', script: '[ #{Machine.Name} != app3 ] || exit 9' },
                ],
              },
              { name: 'middle', script: 'echo middle >> log' },
              {
                type: 'rolling',
                name: 'last',
                window: 3,
                childSteps: [{ name: 'ship', if: 'Output.probe.Ready == "True"', script: 'echo shipped > shipped' }],
              },
            ],
          });
          const h = await startRollout(client, taskQueue, plan, 'replay-continue-as-new', {
            continueAsNewAfterEvents: 1,
          });
          const s = await until(client, h.workflowId, (x) => x.pendingDecisions.length === 1);
          await decide(client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
          await h.result();
          await save(client, 'continue-as-new', h.workflowId, h.firstExecutionRunId);
        }
        // 6. Cancelled with the cancel update mid-step, and 7. through Temporal's own cancellation.
        for (const how of ['update', 'temporal'] as const) {
          const targets = localTargets(3);
          const plan = planOf(targets, 'slow', {
            process: [
              {
                type: 'rolling',
                name: 'deploy',
                window: 1,
                childSteps: [
                  { name: 'work', script: 'sleep 1; touch worked' },
                  { name: 'cleanup', runCondition: 'always', script: 'touch cleaned' },
                ],
              },
            ],
          });
          const h = await startRollout(client, taskQueue, plan, `replay-cancel-${how}`);
          await until(client, h.workflowId, (x) => (x.steps[0]?.inFlightCount ?? 0) > 0);
          if (how === 'update') await cancelRollout(client, h.workflowId, 'U_ALICE', 'changed my mind');
          else await (h as WorkflowHandle).cancel();
          await h.result();
          await save(client, `cancel-${how}`, h.workflowId);
        }
        // 8. A deployable queue: three rollouts, the third withdrawn, the first two run one after the other.
        {
          const targets = localTargets(2);
          const spec = { process: [{ name: 'deploy', script: 'sleep 1; printf %s #{Release} > version' }] };
          const deployable = 'queued';
          const ids = ['replay-queue-v1', 'replay-queue-v2', 'replay-queue-v3'];
          await enqueueRollout(client, taskQueue, planOf(targets, deployable, spec, 'v1'), ids[0]);
          await enqueueRollout(client, taskQueue, planOf(targets, deployable, spec, 'v2', 'U_BOB'), ids[1]);
          await enqueueRollout(client, taskQueue, planOf(targets, deployable, spec, 'v3', 'U_CAROL'), ids[2]);
          const refused = await withdrawRollout(client, taskQueue, deployable, ids[2]!, 'U_MALLORY');
          if (refused.outcome !== 'rejected') throw new Error('withdraw by U_MALLORY was not refused');
          await withdrawRollout(client, taskQueue, deployable, ids[2]!, 'U_CAROL');
          await waitUntilStarted(client, ids[1]!);
          await rolloutHandle(client, ids[1]!).result();
          // The queue workflow runs on (waiting for the next rollout): its history so far is what replays.
          const qid = deployableWorkflowId(deployable, taskQueue);
          for (let i = 0; i < 50; i++) {
            const st = await client.workflow
              .getHandle(qid)
              .query<{ running?: unknown; recent: unknown[] }>('deployableState');
            if (!st.running && st.recent.length === 2) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await save(client, 'deployable-queue', qid);
          await client.workflow.getHandle(qid).terminate('recorded');
        }
      });
    }),
  ]);
  await ssh.close();
  await local.close();
  await native.close();
  await connection.close();
  await server?.stop();
}

await main();
