// Records a rollout on both paths new rollouts take since issue 13: each target's chain as one runChain activity
// (`inline-chain`) and continue-as-new inside a step (`scale.step-continue`): 12 targets, window 3, a threshold of
// 40 events, app2's install failing (answered Ignore), then a script step gated by an output of the chain.
// Written to test/replay/histories/inline-step-continue.runN.json. Re-record only on purpose.
//
//   node --import tsx test/replay/recordInlineStepContinue.ts      (or TEMPORAL_TEST_ADDRESS=host:port)
import { decide, startRollout } from '../../src/temporal/client';
import { withRecorder } from './recorder';

await withRecorder('inlinesc', async (r) => {
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
  const h = await startRollout(r.client, r.taskQueue, plan, 'replay-inline-step-continue', {
    continueAsNewAfterEvents: 40,
  });
  const s = await r.until(h.workflowId, (x) => x.pendingDecisions.length === 1);
  await decide(r.client, h.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
  const result = await h.result();
  if (result.status !== 'succeeded') throw new Error(`rollout ${result.status}`);
  await r.saveRuns('inline-step-continue', h.workflowId, h.firstExecutionRunId);
});
process.exit(0);
