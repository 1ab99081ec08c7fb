// Records the histories of the `inline-chain` path (issue 13): a target's chain of child steps as ONE runChain
// activity. A rolling step over three targets (window 2) whose chain has three child steps, the third gated by an
// output of the first; app1's install fails once (guided: Retry re-runs it and the chain goes on), app2's verify is
// skipped by its condition, then a manual step (`inline-chain-guided`). And a Slack rollout whose failure is answered
// Ignore and whose next target's failure is answered Fail, with an always step running on (`inline-chain-ignore-fail`).
// Re-record only on purpose.
//
//   node --import tsx test/replay/recordInlineChain.ts      (or TEMPORAL_TEST_ADDRESS=host:port)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { decide, startRollout } from '../../src/temporal/client';
import { withRecorder } from './recorder';

await withRecorder('inline', async (r) => {
  {
    const targets = r.localTargets(3);
    const plan = r.planOf(targets, {
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 2,
          onFailure: 'guided',
          childSteps: [
            {
              name: 'prepare',
              script: 'if [ #{Machine.Name} = app2 ]; then set_output Ready no; else set_output Ready yes; fi',
            },
            { name: 'install', script: 'if [ #{Machine.Name} = app1 ] && [ ! -f fixed ]; then exit 3; fi' },
            { name: 'verify', if: 'Output.prepare.Ready == "yes"', script: 'touch verified' },
          ],
        },
        { type: 'manual', name: 'approve', instructions: 'Proceed?' },
      ],
    });
    const h = await startRollout(r.client, r.taskQueue, plan, 'replay-inline-chain-guided');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.kind === 'failure');
    writeFileSync(path.join(targets[0]!.workdir, 'fixed'), '');
    await decide(r.client, h.workflowId, 'd1', 'retry', 'U_BOB');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.kind === 'manual');
    await decide(r.client, h.workflowId, 'd2', 'proceed', 'U_BOB');
    const res = await h.result();
    if (res.status !== 'succeeded') throw new Error(`guided: ${res.status} ${res.summary.stopReason}`);
    await r.save('inline-chain-guided', h.workflowId);
  }
  {
    const targets = r.localTargets(3);
    const plan = {
      ...r.planOf(targets, {
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            onFailure: 'guided',
            childSteps: [
              { name: 'install', script: 'if [ #{Machine.Name} != app3 ]; then exit 2; fi' },
              { name: 'cleanup', runCondition: 'always', script: 'touch cleaned' },
            ],
          },
        ],
      }),
      slack: r.slack,
    };
    const h = await startRollout(r.client, r.taskQueue, plan, 'replay-inline-chain-ignore-fail');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.target === 'app1');
    await decide(r.client, h.workflowId, 'd1', 'ignore', 'U_BOB');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.target === 'app2');
    await decide(r.client, h.workflowId, 'd2', 'fail', 'U_BOB');
    const res = await h.result();
    if (res.status !== 'failed') throw new Error(`ignore-fail: ${res.status}`);
    await r.save('inline-chain-ignore-fail', h.workflowId);
  }
});
process.exit(0);
