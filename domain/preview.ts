// A plan preview: what a rollout of this plan would do, worked out before anything runs (`/rollout … --plan`,
// `rollout start --plan`). Pure: the same functions the workflow uses decide the order, the windows and the ramp
// stages (domain/window.ts, domain/ramp.ts, domain/maxParallelism.ts), and the conditions that can be judged from
// the plan alone (domain/conditions.ts) are judged here; the rest is "decided at run time".
import { conditionScope } from './conditions';
import { evaluateCondition, outputStepsReferenced, type ConditionScope } from './expressions';
import { freezesInForce } from './freezes';
import type { DeployableLock } from './locks';
import { maxParallelismOf } from './maxParallelism';
import type { DoubleHalfStepPlan, ExecStepPlan, RolloutPlan, RunCondition, StepPlan, TargetPlan, Window } from './plan';
import { describeRamp } from './ramp';
import { windowSize } from './window';

/** When a step (or child step) runs, as far as the plan tells. */
export type PreviewRuns =
  /** In a rollout where nothing fails (and its `if:`, when it has one, holds). */
  | 'runs'
  /** Only once something has failed and was answered Fail (runCondition: failure). */
  | 'on failure only'
  /** Whatever happened before (runCondition: always). */
  | 'always'
  /** Its `if:` is false for everything it would reach: it is skipped. */
  | 'skipped';

/** An `if:` judged at plan time: true, false, or not knowable before the rollout runs. */
export type PlanTimeVerdict = 'true' | 'false' | 'run time';

export interface PreviewCondition {
  expression: string;
  /** `run time` when it reads Output of earlier steps or Status. */
  verdict: PlanTimeVerdict;
}

export interface PreviewStage {
  /** 1-based. */
  stage: number;
  targets: string[];
}

export interface PreviewChildStep {
  name: string;
  runs: PreviewRuns;
  condition?: PreviewCondition;
  /** Targets whose `if:` is known false (the child step is skipped there). */
  skippedOn: string[];
}

export interface PreviewExecStep {
  type: 'script' | 'rolling';
  name: string;
  runs: PreviewRuns;
  condition?: PreviewCondition;
  /** Every target the step reaches (its tags applied), in the order it starts them. */
  targets: string[];
  /** Targets the step's `if:` is known to skip. */
  skippedOn: string[];
  /** Targets in flight at most (after any override). */
  window: number;
  /** As configured: `2`, `25%`, `ramp 1, 2, 50%`, `all targets`. */
  configuredWindow: string;
  /** Set when MaxParallelism replaces the configured window (rolling steps only), with its value. */
  maxParallelism?: number;
  /** A ramp's stages (unless MaxParallelism replaces it): which targets each starts. */
  stages?: PreviewStage[];
  /** What holds each next ramp stage back. */
  between?: { bakeSec?: number; manual?: boolean };
  childSteps: PreviewChildStep[];
}

export interface PreviewApprovers {
  /** The list as configured (the step's, else the deployable's approvers, else its starters). */
  list: string[];
  /** Empty list: anyone in the channel may answer. */
  anyone: boolean;
  /** The user ids the list names, groups expanded under the one rule (domain/access.ts). */
  members: string[];
  /** `@group`s that could not be expanded here (a Slack group outside the bot): they grant nothing. */
  unresolved: string[];
}

export interface PreviewManualStep {
  type: 'manual';
  name: string;
  runs: PreviewRuns;
  condition?: PreviewCondition;
  instructions: string;
  approvers: PreviewApprovers;
  timeoutSec?: number;
  onTimeout: 'proceed' | 'abort';
}

/** A double-half step: its new half exists only once the provision script has run, so it is described, not listed. */
export interface PreviewDoubleHalfStep {
  type: 'double-half';
  name: string;
  runs: PreviewRuns;
  condition?: PreviewCondition;
  /** The old half (the step's tags applied), decommissioned after the switch. */
  oldHalf: string[];
  /** Over the new half, as configured. */
  configuredWindow: string;
  /** The per-target chain each new target runs before the switch. */
  childSteps: string[];
}

export type PreviewStep = PreviewExecStep | PreviewManualStep | PreviewDoubleHalfStep;

export interface PreviewFreeze {
  name: string;
  from: string;
  until: string;
  reason: string;
  /** In force at preview time (a start is refused unless overridden); otherwise it begins later. */
  inForce: boolean;
}

export interface PlanPreview {
  deployable: string;
  release: string;
  requestedBy: string;
  /** Every target of the deployable, in the order the config declares them. */
  targets: string[];
  steps: PreviewStep[];
  /** MaxParallelism, when set: it replaces the window of every rolling step. */
  maxParallelism?: number;
  /** Freezes in force now or ahead. */
  freezes: PreviewFreeze[];
  /** The deployable's lock, when it is held (by the requester or by someone else). */
  lock?: DeployableLock;
  /** The lock refuses this requester: why. */
  lockedOut?: string;
}

/** Expanded approver lists, by the list's entries joined (the caller expands them: it may need Slack). */
export type ExpandedLists = ReadonlyMap<string, { members: readonly string[]; unresolved: readonly string[] }>;

export const listKey = (list: readonly string[]): string => JSON.stringify(list);

/** The approver list a manual step asks: its own, else the plan's (the deployable's approvers, else starters). */
export function manualApprovers(plan: RolloutPlan, step: Extract<StepPlan, { type: 'manual' }>): string[] {
  return step.approvers.length > 0 ? step.approvers : plan.approvers;
}

function runsOf(c: RunCondition): PreviewRuns {
  return c === 'success' ? 'runs' : c === 'failure' ? 'on failure only' : 'always';
}

/**
 * An `if:` at plan time, on one target (or none). It is decided at run time when it reads the output of an
 * earlier step, or when its value depends on the rollout's Status.
 */
export function judgeAtPlanTime(
  expression: string,
  plan: RolloutPlan,
  target: Pick<TargetPlan, 'name' | 'tags' | 'variables'> | undefined,
): PlanTimeVerdict {
  if (outputStepsReferenced(expression).length > 0) return 'run time';
  const scope = (status: 'success' | 'failure') => {
    const s = conditionScope(plan, target, status, {});
    return target ? s : { ...s, machine: undefined };
  };
  const ok = evaluate(expression, scope('success'));
  if (ok !== evaluate(expression, scope('failure'))) return 'run time';
  return ok ? 'true' : 'false';
}

/** The config check refused expressions that do not parse, so this never throws on a validated plan. */
const evaluate = (expression: string, scope: ConditionScope): boolean => evaluateCondition(expression, scope);

/** A condition over several targets: known true / false on each, or run time as soon as one is. */
function overTargets(
  expression: string | undefined,
  plan: RolloutPlan,
  targets: TargetPlan[],
): { condition?: PreviewCondition; skippedOn: string[] } {
  if (expression === undefined) return { skippedOn: [] };
  const verdicts = targets.map((t) => judgeAtPlanTime(expression, plan, t));
  const skippedOn = targets.filter((_, i) => verdicts[i] === 'false').map((t) => t.name);
  const verdict: PlanTimeVerdict = verdicts.includes('run time')
    ? 'run time'
    : skippedOn.length === targets.length && targets.length > 0
      ? 'false'
      : 'true';
  return { condition: { expression, verdict }, skippedOn };
}

function windowText(w: Window | undefined): string {
  return w === undefined ? 'all targets' : 'count' in w ? String(w.count) : `${w.percent}%`;
}

function doubleHalfStep(plan: RolloutPlan, step: DoubleHalfStepPlan): PreviewDoubleHalfStep {
  const oldHalf = plan.targets.filter((t) => step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag)));
  const { condition } = overTargets(step.if, plan, oldHalf);
  return {
    type: 'double-half',
    name: step.name,
    runs: condition?.verdict === 'false' ? 'skipped' : runsOf(step.runCondition),
    ...(condition ? { condition } : {}),
    oldHalf: oldHalf.map((t) => t.name),
    configuredWindow: windowText(step.window),
    childSteps: step.childSteps.map((c) => c.name),
  };
}

function execStep(plan: RolloutPlan, step: ExecStepPlan, mp: number | undefined): PreviewExecStep {
  const targets = plan.targets.filter((t) => step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag)));
  const n = targets.length;
  const { condition, skippedOn } = overTargets(step.if, plan, targets);
  const skipped = new Set(skippedOn);
  const running = targets.filter((t) => !skipped.has(t.name));
  // As the workflow's Pacer: MaxParallelism replaces a rolling step's window (or the rest of its ramp).
  const override = step.type === 'rolling' && mp !== undefined ? windowSize({ count: mp }, n) : undefined;
  const preview: PreviewExecStep = {
    type: step.type,
    name: step.name,
    runs: condition?.verdict === 'false' ? 'skipped' : runsOf(step.runCondition),
    ...(condition ? { condition } : {}),
    targets: targets.map((t) => t.name),
    skippedOn,
    window: override ?? (step.ramp ? windowSize(step.ramp.windows[0], n) : windowSize(step.window, n)),
    configuredWindow: step.ramp ? `ramp ${describeRamp(step.ramp)}` : windowText(step.window),
    childSteps: step.childSteps.map((c) => {
      const judged = overTargets(c.if, plan, running);
      return {
        name: c.name,
        runs: judged.condition?.verdict === 'false' ? 'skipped' : runsOf(c.runCondition),
        ...(judged.condition ? { condition: judged.condition } : {}),
        skippedOn: judged.skippedOn,
      };
    }),
  };
  if (override !== undefined) preview.maxParallelism = mp;
  if (step.ramp && override === undefined) {
    // A stage starts its entry's size of the targets that run (a skipped target opens no stage); sizes are
    // taken over all the step's targets, as the Pacer does.
    const stages: PreviewStage[] = [];
    let i = 0;
    for (let at = 0; at < running.length; i++) {
      const w = step.ramp.windows[Math.min(i, step.ramp.windows.length - 1)];
      const size = windowSize(w, n);
      stages.push({ stage: i + 1, targets: running.slice(at, at + size).map((t) => t.name) });
      at += size;
    }
    preview.stages = stages;
    if (step.ramp.between) preview.between = { ...step.ramp.between };
  }
  return preview;
}

export interface PreviewFacts {
  /** Preview time, epoch ms (freezes in force). */
  now: number;
  expanded: ExpandedLists;
  lock?: DeployableLock;
}

export function previewPlan(plan: RolloutPlan, facts: PreviewFacts): PlanPreview {
  const mp = plan.steps.some((s) => s.type === 'rolling') ? maxParallelismOf(plan.variables) : undefined;
  const first = plan.targets[0];
  const steps = plan.steps.map((step): PreviewStep => {
    if (step.type === 'double-half') return doubleHalfStep(plan, step);
    if (step.type !== 'manual') return execStep(plan, step, mp);
    const list = manualApprovers(plan, step);
    const e = facts.expanded.get(listKey(list)) ?? { members: [], unresolved: [] };
    // As the workflow: a manual step's scope has no machine, but the first target's variables.
    const verdict = step.if === undefined ? undefined : judgeAtPlanTime(step.if, plan, first && { ...first });
    return {
      type: 'manual',
      name: step.name,
      runs: verdict === 'false' ? 'skipped' : runsOf(step.runCondition),
      ...(step.if !== undefined && verdict ? { condition: { expression: step.if, verdict } } : {}),
      instructions: step.instructions,
      approvers: { list, anyone: list.length === 0, members: [...e.members].sort(), unresolved: [...e.unresolved] },
      ...(step.timeoutSec !== undefined ? { timeoutSec: step.timeoutSec } : {}),
      onTimeout: step.onTimeout,
    };
  });
  const inForce = new Set(freezesInForce(plan.freezes, facts.now).map((f) => f.name));
  const freezes = (plan.freezes ?? [])
    .filter((f) => Date.parse(f.until) > facts.now)
    .map((f) => ({ ...f, inForce: inForce.has(f.name) }));
  const preview: PlanPreview = {
    deployable: plan.deployable,
    release: plan.release,
    requestedBy: plan.requestedBy,
    targets: plan.targets.map((t) => t.name),
    steps,
    freezes,
  };
  if (mp !== undefined) preview.maxParallelism = mp;
  if (facts.lock) {
    preview.lock = facts.lock;
    if (facts.lock.holder !== plan.requestedBy)
      preview.lockedOut = `locked by ${facts.lock.holder} since ${facts.lock.since}: ${facts.lock.reason}`;
  }
  return preview;
}
