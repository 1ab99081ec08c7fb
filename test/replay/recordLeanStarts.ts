// Records the histories of `scale.lean-starts` (workflows/rollout/steps.ts: targets started and followed with fewer
// promises), the shapes of recordInlineChain.ts over more targets: a rolling step over five targets (window 2) whose
// chain has three child steps, the third gated by an output of the first; app1's install fails once (guided: Retry
// re-runs it and the chain goes on, while the other slot keeps going), app2's verify is skipped by its condition,
// then a manual step (`lean-starts-guided`). And a Slack rollout whose failure is answered Ignore and whose next
// target's failure is answered Fail, with an always step running on (`lean-starts-ignore-fail`). And the rollout
// of recordStepContinue.ts, continuing as new in the middle of its rolling step (`lean-step-continue.runN`).
// Re-record only on purpose.
//
//   node --import tsx test/replay/recordLeanStarts.ts      (or TEMPORAL_TEST_ADDRESS=host:port)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { decide, startRollout } from '../../src/temporal/client';
import { withRecorder } from './recorder';

await withRecorder('lean', async (r) => {
  {
    const targets = r.localTargets(5);
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
    const h = await startRollout(r.client, r.taskQueue, plan, 'replay-lean-starts-guided');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.kind === 'failure');
    writeFileSync(path.join(targets[0]!.workdir, 'fixed'), '');
    await decide(r.client, h.workflowId, 'd1', 'retry', 'U_BOB');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.kind === 'manual');
    await decide(r.client, h.workflowId, 'd2', 'proceed', 'U_BOB');
    const res = await h.result();
    if (res.status !== 'succeeded') throw new Error(`guided: ${res.status} ${res.summary.stopReason}`);
    await r.save('lean-starts-guided', h.workflowId);
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
    const h = await startRollout(r.client, r.taskQueue, plan, 'replay-lean-starts-ignore-fail');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.target === 'app1');
    await decide(r.client, h.workflowId, 'd1', 'ignore', 'U_BOB');
    await r.until(h.workflowId, (s) => s.pendingDecisions[0]?.target === 'app2');
    await decide(r.client, h.workflowId, 'd2', 'fail', 'U_BOB');
    const res = await h.result();
    if (res.status !== 'failed') throw new Error(`ignore-fail: ${res.status}`);
    await r.save('lean-starts-ignore-fail', h.workflowId);
  }
  {
    const plan = r.planOf(r.localTargets(12), {
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 3,
          onFailure: 'guided',
          childSteps: [
            { name: 'install', script: '[ #{Machine.Name} != app2 ] || exit 7' },
            { name: 'probe', script: 'set_output Ok True' },
          ],
        },
        { name: 'after', script: 'echo after > after', if: 'Output.probe.Ok == "True"' },
      ],
    });
    const h = await startRollout(r.client, r.taskQueue, plan, 'replay-lean-step-continue', {
      continueAsNewAfterEvents: 40,
    });
    const s = await r.until(h.workflowId, (x) => x.pendingDecisions.length === 1);
    await decide(r.client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
    const result = await h.result();
    if (result.status !== 'succeeded') throw new Error(`step-continue: ${result.status}`);
    await r.saveRuns('lean-step-continue', h.workflowId, h.firstExecutionRunId);
  }
});
process.exit(0);
