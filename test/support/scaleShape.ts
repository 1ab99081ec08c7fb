// bench:scale's rollout shape for pure tests that build a big finished state without running it: n local targets
// (never contacted) and the config of a script step then a rolling step of three child steps, window 5%.
import type { TargetPlan } from '../../domain/plan';
import type { RolloutInput } from '../../workflows/messages';
import { RolloutState } from '../../workflows/rollout/state';
import { configFor, planFor } from './rollouts';

/** n local targets t1…tn, tagged `web`, with workdirs under `dir`. */
export function pretendTargets(n: number, dir: string): TargetPlan[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `t${i + 1}`,
    transport: 'local' as const,
    host: 'localhost',
    port: 22,
    user: '',
    tags: ['web'],
    workdir: `${dir}/t${i + 1}`,
    strictHostKeyChecking: true,
    variables: {},
  }));
}

/** A fresh RolloutState of bench:scale's shape over `targets` (deployable `farm`, release v2). */
export function scaleShapeState(targets: TargetPlan[]): RolloutState {
  const cfg = configFor(targets, {
    farm: {
      targets: ['tag:web'],
      process: [
        { name: 'prepare', script: 'true' },
        {
          type: 'rolling',
          name: 'deploy',
          window: '5%',
          childSteps: [
            { name: 'a', script: 'echo a' },
            { name: 'b', script: 'set_output Ok True' },
            { name: 'c', script: 'echo c', if: 'Output.b.Ok == "True"' },
          ],
        },
      ],
    },
  });
  const input: RolloutInput = { plan: planFor(cfg, 'farm') };
  return new RolloutState(input, 'rollout-farm-v2', { notify: () => undefined });
}
