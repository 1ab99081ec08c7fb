// The MaxParallelism variable: set for a rollout (`--var MaxParallelism=3`) or on the deployable, it overrides the
// window of every rolling step. Octopus users know the name; unlike Octopus, the override is never silent: the
// thread and `status` say which window it replaced.

export const MAX_PARALLELISM = 'MaxParallelism';

/** The override a variable value asks for: a whole number ≥ 1, or undefined when unset or empty. */
export function maxParallelismOf(variables: Record<string, string>): number | undefined {
  const raw = variables[MAX_PARALLELISM];
  if (raw === undefined || raw.trim() === '') return undefined;
  return checkMaxParallelism(raw) === undefined ? Number(raw.trim()) : undefined;
}

/** Why a value is not a MaxParallelism (undefined when it is one). Empty means "no override". */
export function checkMaxParallelism(raw: string): string | undefined {
  const v = raw.trim();
  if (v === '' || /^[1-9]\d{0,5}$/.test(v)) return undefined;
  return `${MAX_PARALLELISM} must be a whole number ≥ 1 (got ${JSON.stringify(raw.slice(0, 40))})`;
}
