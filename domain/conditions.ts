// Run conditions, judged the same way for steps (in the rollout) and child steps (in a target's chain).
import { evaluateCondition, type ConditionScope } from './expressions';
import type { RunCondition, TargetPlan } from './plan';

/** The status a step or child step is judged on: "failure" once something failed and was answered Fail. */
export type RunStatus = 'success' | 'failure';

export function runConditionHolds(c: RunCondition, s: RunStatus): boolean {
  return c === 'always' || (c === 'success' ? s === 'success' : s === 'failure');
}

/** What every expression can read about the rollout (a plan, or a chain's copy of it). */
export interface RolloutFacts {
  release: string;
  deployable: string;
  requestedBy: string;
  /** The rollout's variables; a target's own variables are merged over them. */
  variables: Record<string, string>;
}

/** The expression scope on one machine (or none, for a manual step): its variables and its own outputs. */
export function conditionScope(
  facts: RolloutFacts,
  target: Pick<TargetPlan, 'name' | 'tags' | 'variables'> | undefined,
  status: RunStatus,
  outputs: Record<string, Record<string, string>>,
): ConditionScope {
  return {
    release: facts.release,
    deployable: facts.deployable,
    requestedBy: facts.requestedBy,
    status,
    ...(target ? { machine: { name: target.name, tags: target.tags } } : {}),
    variables: { ...facts.variables, ...(target?.variables ?? {}) },
    outputs,
  };
}

/** A step's `if:` (when it has one) on this scope. */
export function ifHolds(expression: string | undefined, scope: ConditionScope): boolean {
  return expression === undefined || evaluateCondition(expression, scope);
}
