// The control of replay.test.ts: the real workflows, except that the rollout workflow issues one extra command
// (a 1 ms timer) before doing exactly what it always did. Every recorded rollout history must refuse to replay
// against this bundle; if one does not, the replay test could not catch a non-deterministic change.
import { sleep } from '@temporalio/workflow';
import { rolloutWorkflow as realRolloutWorkflow } from '../../../workflows/rollout';
import type { RolloutInput, RolloutResult } from '../../../workflows/messages';

export { deployableWorkflow, targetChainWorkflow, targetLockWorkflow } from '../../../workflows/index';

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  await sleep(1);
  return realRolloutWorkflow(input);
}
