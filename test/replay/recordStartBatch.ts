// Records the history of `scale.start-batch` (workflows/rollout/steps.ts: an exec step starts at most
// STARTS_PER_PASS targets per call into the workflow's VM) that replay.test.ts replays: 120 local targets in a
// window of 120, so that the first pass starts 50, waits for the SDK's next pass, and so on; a script step, then a
// rolling step of two child steps. Written as test/replay/histories/start-batch.json. Re-record only on purpose.
//
//   node --import tsx test/replay/recordStartBatch.ts   (or TEMPORAL_TEST_ADDRESS=host:port for a running server)
import { startRollout } from '../../src/temporal/client';
import { STARTS_PER_PASS } from '../../workflows/rollout/steps';
import { withRecorder } from './recorder';

await withRecorder('startbatch', async (r) => {
  const n = STARTS_PER_PASS * 2 + 20;
  const plan = r.planOf(r.localTargets(n), {
    process: [
      { name: 'prepare', script: 'true' },
      {
        type: 'rolling',
        name: 'deploy',
        window: n,
        childSteps: [
          { name: 'a', script: 'echo a' },
          { name: 'b', script: 'set_output Ok True' },
        ],
      },
    ],
  });
  const h = await startRollout(r.client, r.taskQueue, plan, 'replay-start-batch');
  const result = await h.result();
  if (result.status !== 'succeeded') throw new Error(`rollout ${result.status}`);
  if (result.targets?.length !== n) throw new Error(`${result.targets?.length} of ${n} targets started`);
  await r.save('start-batch', h.workflowId);
});
process.exit(0);
