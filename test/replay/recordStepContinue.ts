// Records the histories of continue-as-new inside a step (`scale.step-continue`, workflows/rollout/stepContinue.ts)
// that replay.test.ts replays: one rollout whose rolling step continues as new in its middle (a threshold of 40
// events), with a failure answered Ignore in one run and the next step reading an output carried packed, every run
// written as test/replay/histories/inline-step-continue.runN.json. Today's code runs each target's chain as one
// runChain activity (`inline-chain`), so this records both new paths at once; `scale-step-continue.runN.json` are
// this same rollout recorded by this script before `inline-chain` (branch scale, chains as child workflows).
// Re-record only on purpose.
//
//   node --import tsx test/replay/recordStepContinue.ts   (or TEMPORAL_TEST_ADDRESS=host:port for a running server)
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
