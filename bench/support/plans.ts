// Rollout plans for the benchmarks, built through the product's own config validation and planner.
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import type { RolloutPlan, TargetPlan } from '../../domain/plan';

export function targetConfig(t: TargetPlan): Record<string, unknown> {
  return t.transport === 'ssh'
    ? {
        host: t.host,
        port: t.port,
        user: t.user,
        privateKeyPath: t.privateKeyPath,
        knownHostsPath: t.knownHostsPath,
        tags: ['web'],
        workdir: t.workdir,
      }
    : { transport: 'local', tags: ['web'], workdir: t.workdir };
}

/** One rolling step over every target with the given child-step scripts. */
export function rollingPlan(targets: TargetPlan[], window: number | string, scripts: string[]): RolloutPlan {
  const cfg = validateConfig(
    {
      targets: Object.fromEntries(targets.map((t) => [t.name, targetConfig(t)])),
      deployables: {
        farm: {
          targets: ['tag:web'],
          process: [
            {
              type: 'rolling',
              name: 'deploy',
              window,
              childSteps: scripts.map((script, i) => ({ name: `c${i + 1}`, script })),
            },
          ],
        },
      },
    },
    'bench',
    '/',
  );
  return buildPlan(cfg, { deployable: 'farm', release: 'v1', requestedBy: 'bench' });
}
