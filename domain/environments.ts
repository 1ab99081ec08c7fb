// Environments and their lifecycle: the pure rules the deployable's queue workflow (the enqueue validator), the
// bot and the CLI share. A release enters an environment of a lifecycle only once it succeeded in the environment
// before it; `promote` rolls it into the environment after the last one it succeeded in.
import type { ReleaseRecord } from './releases';

/** Did `release` succeed in `environment`, by this deployable's (bounded) release history? */
export function succeededIn(history: readonly ReleaseRecord[], release: string, environment: string): boolean {
  return history.some(
    (r) => r.release === release && r.environment === environment && r.outcome === 'succeeded' && !r.rollbackOf,
  );
}

/** The environment a release must have succeeded in before `environment` takes it (undefined: none). */
export function prerequisiteOf(lifecycle: readonly string[] | undefined, environment: string): string | undefined {
  const i = lifecycle?.indexOf(environment) ?? -1;
  return i > 0 ? lifecycle?.[i - 1] : undefined;
}

/** Why `release` may not enter `requires`' successor yet, or undefined when it may. */
export function promotionProblem(
  history: readonly ReleaseRecord[],
  release: string,
  environment: string,
  requires: string | undefined,
): string | undefined {
  if (requires === undefined || succeededIn(history, release, requires)) return undefined;
  return `${release} has not succeeded in ${requires}: it cannot go to ${environment} before it has`;
}

export type PromotionChoice = { ok: true; from: string; to: string } | { ok: false; reason: string };

/** `promote <release>`: the environment after the last one of the lifecycle `release` succeeded in. */
export function choosePromotion(
  deployable: string,
  lifecycle: readonly string[] | undefined,
  history: readonly ReleaseRecord[],
  release: string,
): PromotionChoice {
  if (!lifecycle || lifecycle.length === 0) {
    return { ok: false, reason: `${deployable} has no lifecycle: name the environment to roll ${release} out to` };
  }
  for (let i = lifecycle.length - 1; i >= 0; i--) {
    const env = lifecycle[i] as string;
    if (!succeededIn(history, release, env)) continue;
    const to = lifecycle[i + 1];
    if (to === undefined) {
      return { ok: false, reason: `${release} already succeeded in ${env}, the last environment of ${deployable}` };
    }
    return { ok: true, from: env, to };
  }
  return {
    ok: false,
    reason: `${release} has not succeeded in any environment of ${deployable} yet: roll it out to ${lifecycle[0]} first`,
  };
}
