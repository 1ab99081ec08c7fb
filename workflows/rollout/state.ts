// Everything a rollout knows, in one object: built from the input (or the state carried over continue-as-new),
// changed by the step runner and the update handlers, read by the queries. No commands are issued here.
import { conditionScope, type RunStatus } from '../../domain/conditions';
import type { DoubleHalfStatus } from '../../domain/doubleHalf';
import type { RolloutPlan, TargetPlan } from '../../domain/plan';
import type { TargetOutcome } from '../../domain/releases';
import { keepTail, TAIL_LIMITS } from '../../domain/text';
import { windowSize } from '../../domain/window';
import {
  SUMMARY_LIST_LIMIT,
  type CarriedRolloutState,
  type Decision,
  type ReleaseCheckSummary,
  type DecisionAnswer,
  type RolloutInput,
  type RolloutStatus,
  type RolloutSummary,
  type StepRamp,
  type StepResume,
  type StepSummary,
  type TargetDetail,
  type TargetsPage,
  type TargetsQueryInput,
  type TargetState,
  type TargetStepDetail,
} from '../messages';
import { decisionAnswered, decisionOpened } from './telemetry';
import { neededOutputs, packStepRecords, packTargets, unpackStepRecords } from './compact';
import {
  packPages,
  pagesWithin,
  targetDetail,
  targetsPage,
  targetState,
  type PackedPages,
  type StateView,
} from './pages';
import type { StepContinuer } from './stepContinue';
import { now } from './clock';
import type { ThreadNote } from './outbox';
import { Steering } from './steering';

export { now };

export type StopKind = NonNullable<CarriedRolloutState['stopKind']>;

const EMPTY_COUNTS = (): Record<TargetState, number> => ({
  pending: 0,
  running: 0,
  waiting: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  excluded: 0,
});

/** A decision's tail as the summary and the carried state keep it. */
const clipDecision = (d: Decision): Decision => ({
  ...d,
  ...(d.tail !== undefined ? { tail: keepTail(d.tail, TAIL_LIMITS.decisionSummary) } : {}),
});

export class RolloutState {
  readonly plan: RolloutPlan;
  readonly startedAt: string;
  private readonly runs: number;
  endedAt: string | undefined;
  status: RolloutStatus = 'running';
  stopKind: StopKind | undefined;
  stopReason: string | undefined;
  firstFailure: RolloutSummary['failure'];
  currentStep: string | undefined;

  /** records[stepIndex].get(target): one per target the step reaches. */
  readonly records: Array<Map<string, TargetStepDetail>>;
  readonly stepStates: Array<StepSummary['state']>;
  readonly stepWindows: Array<number | undefined>;
  readonly inFlight: Array<Set<string>>;
  readonly outputsByTarget: Map<string, Record<string, Record<string, string>>>;
  readonly excluded: Set<string>;
  readonly failedTargets: Set<string>;
  /** Targets in the order they began receiving the release (their first step started): what a rollback undoes. */
  private readonly startOrder: string[];
  private readonly started: Set<string>;
  readonly decisions: Map<string, Decision>;
  private readonly answeredOrder: string[];
  decisionSeq: number;
  approvers: Set<string>;
  readonly manualApproverSets: Map<string, Set<string>>;
  readonly budgetLimit: number | undefined;
  /** PATCHES.honestOutcomes holds for this run (false while replaying rollouts recorded before it). */
  honest = false;
  /** Pause, freeze and window override (see steering.ts). */
  readonly steering: Steering;
  /** A target's chain runs as one activity (PATCH_INLINE_CHAIN in steps.ts), not as a child workflow. */
  inlineChain = false;
  /** An exec step starts at most STARTS_PER_PASS targets per call into the VM (PATCH_START_BATCH in steps.ts). */
  startBatch = false;
  /** Targets start and are followed with fewer promises (PATCH_LEAN_STARTS in steps.ts); needs inlineChain. */
  leanStarts = false;
  /**
   * Per target: the runs of its latest chain whose outcomes are recorded; its next chain removes them from the
   * target (not carried over continue-as-new: what is left then is removed by the target's retention sweep).
   */
  readonly recordedRuns = new Map<string, string[]>();
  /** Started by code that knows steering (ramps, pause, freezes, MaxParallelism): see PATCH_STEERING. */
  steerable = false;
  /** The steps are over: background loops (the freeze watcher) stop. */
  done = false;
  /** Per step: where its ramp is, and the configured window when an override replaced it. */
  readonly stepRamps: Array<StepRamp | undefined>;
  readonly configuredWindows: Array<string | undefined>;
  /** The pacing of the exec steps running now, told when a window change arrives. */
  readonly pacers: Array<{ show(): void } | undefined>;
  /** Targets provisioned by double-half steps: not in the plan, shown and queried like the plan's. */
  readonly dynamicTargets: TargetPlan[];
  /** Per step: a double-half step's halves (see domain/doubleHalf.ts). */
  readonly doubleHalves: Array<DoubleHalfStatus | undefined>;
  /**
   * Set in runs with `scale.step-continue` (stepContinue.ts): exec steps may continue as new in their middle, and
   * the carried state is packed (compact.ts).
   */
  stepContinue: StepContinuer | undefined;
  /** This run goes on with step `resume.step` where the previous run left it (taken by that step when it runs). */
  resume: StepResume | undefined;

  constructor(
    input: RolloutInput,
    readonly rolloutId: string,
    private readonly thread: { notify(n: ThreadNote): void },
  ) {
    const { plan, carried } = input;
    this.plan = plan;
    this.runs = carried?.runs ?? 0;
    this.startedAt = carried?.startedAt ?? now();
    this.stopKind = carried?.stopKind;
    this.stopReason = carried?.stopReason;
    this.firstFailure = carried?.firstFailure;
    const packed = carried?.packed;
    const startedMs = Date.parse(this.startedAt);
    const everyTarget = [...plan.targets, ...(carried?.dynamicTargets ?? [])];
    this.records = plan.steps.map((step, i) => {
      const p = packed?.records[i];
      return new Map(p ? unpackStepRecords(p, step, everyTarget, startedMs) : (carried?.records[i] ?? []));
    });
    this.stepStates = plan.steps.map((_, i) => carried?.stepStates[i] ?? 'pending');
    this.stepWindows = plan.steps.map((_, i) => carried?.stepWindows[i] ?? undefined);
    this.inFlight = plan.steps.map(() => new Set());
    this.outputsByTarget = new Map(carried?.outputsByTarget ?? []);
    this.excluded = new Set(carried?.excluded ?? []);
    this.failedTargets = new Set(carried?.failedTargets ?? []);
    this.startOrder = packed
      ? packed.startOrder.map((r) => (typeof r === 'number' ? (everyTarget[r]?.name ?? String(r)) : r))
      : [...(carried?.startOrder ?? [])];
    this.started = new Set(this.startOrder);
    this.decisions = new Map((carried?.decisions ?? []).map((d) => [d.id, d]));
    this.answeredOrder = (carried?.decisions ?? []).map((d) => d.id);
    this.decisionSeq = carried?.decisionSeq ?? 0;
    this.approvers = new Set(carried?.approvers ?? []);
    this.manualApproverSets = new Map((carried?.manualApprovers ?? []).map(([step, list]) => [step, new Set(list)]));
    this.budgetLimit = plan.failureBudget ? windowSize(plan.failureBudget, plan.targets.length) : undefined;
    this.steering = new Steering(carried?.steering, thread);
    this.stepRamps = plan.steps.map((_, i) => packed?.stepRamps?.[i] ?? undefined);
    this.configuredWindows = plan.steps.map((_, i) => packed?.configuredWindows?.[i] ?? undefined);
    this.pacers = plan.steps.map(() => undefined);
    this.dynamicTargets = [...(carried?.dynamicTargets ?? [])];
    this.doubleHalves = plan.steps.map((_, i) => carried?.doubleHalves?.[i] ?? undefined);
    this.stepContinue = undefined;
    this.resume = carried?.resume;
  }

  /** The plan's targets, then those provisioned during the rollout. */
  allTargets(): TargetPlan[] {
    return this.dynamicTargets.length > 0 ? [...this.plan.targets, ...this.dynamicTargets] : this.plan.targets;
  }

  /** A window change: every running step shows its new window at once (and starts by it). */
  showWindows(): void {
    for (const p of this.pacers) p?.show();
  }

  /** Is there a rolling step still to run (or running), which a window change would reach? */
  rollingStepAhead(): boolean {
    return this.plan.steps.some(
      (s, i) => s.type === 'rolling' && (this.stepStates[i] === 'pending' || this.stepStates[i] === 'running'),
    );
  }

  /** Shared-target locks granted to this rollout, and the targets waiting for one (see sharedTargets.ts). */
  readonly grantedLocks = new Set<string>();
  readonly lockWaits = new Map<string, { target: string; lock: string; since: string }>();

  /** The release check's run (see releaseCheck.ts). */
  releaseCheck?: ReleaseCheckSummary;

  /** Called with each decision as it opens (reminders start their durable timers here). */
  onDecisionOpened?: (d: Decision) => void;

  notify(n: ThreadNote): void {
    this.thread.notify(n);
  }

  // ---- decisions --------------------------------------------------------------------------------------------

  pendingDecisions(): Decision[] {
    return [...this.decisions.values()].filter((d) => !d.answer);
  }

  /** Records a new decision under the next id (the caller tells the thread when it should be asked). */
  openDecision(d: Omit<Decision, 'id'>): Decision {
    const decision: Decision = { id: `d${++this.decisionSeq}`, ...d };
    this.decisions.set(decision.id, decision);
    decisionOpened(this.plan, decision);
    this.onDecisionOpened?.(decision);
    return decision;
  }

  /** Records an answer: on the decision, in the answered order, and in the thread. */
  recordAnswer(d: Decision, answer: DecisionAnswer): void {
    d.answer = answer;
    decisionAnswered(this.plan, d, answer);
    this.answeredOrder.push(d.id);
    this.notify({ type: 'answered', decisionId: d.id });
  }

  /** Who may answer the rollout's failures (and cancel it): the configured list and its expansion. */
  rolloutApprovers(): { list: readonly string[]; members: ReadonlySet<string> } {
    return { list: this.plan.approvers, members: this.approvers };
  }

  /** Who may answer a manual step: its own approvers (when it names any), or the rollout's. */
  manualApprovers(step: string): { list: readonly string[]; members: ReadonlySet<string> } {
    const own = this.plan.steps.find((s) => s.type === 'manual' && s.name === step);
    if (own?.type === 'manual' && own.approvers.length > 0) {
      return { list: own.approvers, members: this.manualApproverSets.get(step) ?? new Set() };
    }
    return this.rolloutApprovers();
  }

  /** Who a decision's card asks: those who may answer it, or the requester when anyone may. */
  answerersOf(d: Decision): string[] {
    const { members } = d.kind === 'manual' ? this.manualApprovers(d.step) : this.rolloutApprovers();
    // Four eyes: the requester may not approve, so they are not who the card asks (anyone else, when the list
    // allows anyone: the card says so).
    if (d.notBy !== undefined) return [...members].filter((m) => m !== d.notBy);
    return members.size > 0 ? [...members] : [this.plan.requestedBy];
  }

  private recentDecisions(): Decision[] {
    return this.answeredOrder
      .slice(-SUMMARY_LIST_LIMIT)
      .map((id) => this.decisions.get(id))
      .filter((d): d is Decision => d !== undefined)
      .map(clipDecision);
  }

  // ---- the stopping rule ------------------------------------------------------------------------------------

  /** The first stop wins. Nobody is left to wait for: pending failures are answered Fail, interventions Abort. */
  stop(kind: StopKind, reason: string): void {
    if (this.stopKind) return;
    this.stopKind = kind;
    this.stopReason = reason;
    for (const d of this.pendingDecisions()) {
      this.recordAnswer(d, { choice: d.kind === 'failure' ? 'fail' : 'abort', by: 'rollout', at: now() });
    }
  }

  /** May a new target (or a step) start? Once stopping, only steps that run because of a failure, after a Fail. */
  mayStart(runStatus: RunStatus): boolean {
    if (!this.stopKind) return true;
    // Steps that run because of a failure (rollback, notify) keep going unless someone cancels or aborts.
    return runStatus === 'failure' && this.stopKind === 'failed';
  }

  overBudget(): boolean {
    return this.budgetLimit !== undefined && this.failedTargets.size > this.budgetLimit;
  }

  /** The expression scope of a step's `if:` on one target. */
  scopeFor(t: TargetPlan, s: RunStatus) {
    return conditionScope(this.plan, t, s, this.outputsByTarget.get(t.name) ?? {});
  }

  /** A target began receiving the release (a step started on it); only its first start counts. */
  noteStarted(target: string): void {
    if (this.started.has(target)) return;
    this.started.add(target);
    this.startOrder.push(target);
  }

  /** The targets that began receiving the release, in start order; received when every step run on it succeeded. */
  startedTargetOutcomes(): TargetOutcome[] {
    return this.startOrder.map((name) => ({ name, received: this.targetState(name) === 'succeeded' }));
  }

  /** Ends the run: the final status and time; returns the final summary. */
  finish(): RolloutSummary {
    this.status = this.stopKind ?? 'succeeded';
    this.endedAt = now();
    return this.summary();
  }

  // ---- continue-as-new --------------------------------------------------------------------------------------

  /** What the next run needs to go on at step `nextStep`: output tails of finished steps stay behind. */
  toCarried(nextStep: number, midStep = false): CarriedRolloutState {
    return this.stepContinue ? this.toCarriedPacked(nextStep, midStep) : this.toCarriedPlain(nextStep);
  }

  private toCarriedPlain(nextStep: number): CarriedRolloutState {
    return {
      nextStep,
      runs: this.runs + 1,
      startedAt: this.startedAt,
      ...(this.stopKind ? { stopKind: this.stopKind } : {}),
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
      ...(this.firstFailure ? { firstFailure: this.firstFailure } : {}),
      decisionSeq: this.decisionSeq,
      decisions: this.recentDecisions(),
      stepStates: this.stepStates,
      stepWindows: this.stepWindows.map((w) => w ?? null),
      records: this.records.map((r) =>
        [...r.entries()].map(([name, rec]): [string, TargetStepDetail] => [
          name,
          { ...rec, children: rec.children.map(({ tail: _tail, ...c }) => c) },
        ]),
      ),
      outputsByTarget: [...this.outputsByTarget.entries()],
      excluded: [...this.excluded],
      failedTargets: [...this.failedTargets],
      startOrder: [...this.startOrder],
      approvers: [...this.approvers],
      manualApprovers: [...this.manualApproverSets.entries()].map(([k, v]) => [k, [...v]]),
      ...(this.steerable ? { steering: this.steering.toCarried() } : {}),
      ...(this.dynamicTargets.length > 0 ? { dynamicTargets: [...this.dynamicTargets] } : {}),
      ...(this.doubleHalves.some(Boolean) ? { doubleHalves: this.doubleHalves.map((h) => h ?? null) } : {}),
    };
  }

  /**
   * The same, packed (compact.ts): the plan's targets, the records and the start order column by column, and
   * outputs only for targets a later step can still read them on. Fits one payload at 10,000 targets.
   */
  private toCarriedPacked(nextStep: number, midStep: boolean): CarriedRolloutState {
    const everyTarget = this.allTargets();
    const index = new Map(everyTarget.map((t, i) => [t.name, i]));
    const startedMs = Date.parse(this.startedAt);
    // Between steps: what steps from nextStep on read. In the middle of nextStep: also its pending targets.
    const current = this.records[nextStep];
    const needed = midStep
      ? neededOutputs(this.plan, nextStep, (name) => current?.get(name)?.state === 'pending')
      : neededOutputs(this.plan, nextStep - 1, () => false);
    const byName = new Map(everyTarget.map((t) => [t.name, t]));
    const { records: _r, startOrder: _o, outputsByTarget: _out, ...plain } = this.toCarriedPlain(nextStep);
    return {
      ...plain,
      records: [],
      outputsByTarget: [...this.outputsByTarget.entries()].filter(([name]) => {
        const t = byName.get(name);
        return !t || needed(t);
      }),
      packed: {
        targets: packTargets(this.plan.targets),
        stepRamps: this.stepRamps.map((r) => r ?? null),
        configuredWindows: this.configuredWindows.map((w) => w ?? null),
        records: this.records.map((r, i) =>
          r.size > 0 ? packStepRecords(r, this.plan.steps[i], index, startedMs) : null,
        ),
        startOrder: this.startOrder.map((name) => index.get(name) ?? name),
      },
    };
  }

  // ---- queries ----------------------------------------------------------------------------------------------

  summary(): RolloutSummary {
    const { plan } = this;
    const steps: StepSummary[] = plan.steps.map((step, si) => {
      const counts = EMPTY_COUNTS();
      for (const rec of (this.records[si] as Map<string, TargetStepDetail>).values()) counts[rec.state]++;
      const flying = [...(this.inFlight[si] as Set<string>)];
      const w = this.stepWindows[si];
      const ramp = this.stepRamps[si];
      const configured = this.configuredWindows[si];
      const halves = this.doubleHalves[si];
      return {
        name: step.name,
        type: step.type,
        state: this.stepStates[si] ?? 'pending',
        counts,
        inFlight: flying.slice(0, SUMMARY_LIST_LIMIT),
        inFlightCount: flying.length,
        ...(w !== undefined ? { window: w } : {}),
        ...(ramp ? { ramp: { ...ramp } } : {}),
        ...(configured !== undefined ? { configuredWindow: configured } : {}),
        ...(halves ? { doubleHalf: { ...halves, old: { ...halves.old }, new: { ...halves.new } } } : {}),
      };
    });
    return {
      rolloutId: this.rolloutId,
      deployable: plan.deployable,
      release: plan.release,
      requestedBy: plan.requestedBy,
      status: this.status,
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
      startedAt: this.startedAt,
      ...(this.endedAt ? { endedAt: this.endedAt } : {}),
      totalTargets: plan.targets.length + this.dynamicTargets.length,
      ...(this.currentStep ? { currentStep: this.currentStep } : {}),
      steps,
      pendingDecisions: this.pendingDecisions().slice(0, SUMMARY_LIST_LIMIT).map(clipDecision),
      recentDecisions: this.recentDecisions(),
      ...(this.firstFailure ? { failure: this.firstFailure } : {}),
      ...(plan.slack ? { slack: { channel: plan.slack.channel, ts: plan.slack.ts } } : {}),
      ...(this.releaseCheck ? { releaseCheck: { ...this.releaseCheck } } : {}),
      ...(this.lockWaits.size > 0
        ? { waitingOnTargets: [...this.lockWaits.values()].slice(0, SUMMARY_LIST_LIMIT).map((w) => ({ ...w })) }
        : {}),
      ...(this.honest ? { targetOutcomes: this.outcomeCounts() } : {}),
      ...(this.steerable ? { steerable: true } : {}),
      ...this.steering.summary(),
      ...(plan.freezeOverride ? { freezeOverride: plan.freezeOverride } : {}),
    };
  }

  /** Targets deployed (overall succeeded), excluded, and skipped because nothing could run on them. */
  private outcomeCounts(): NonNullable<RolloutSummary['targetOutcomes']> {
    const out = { deployed: 0, excluded: 0, notRun: 0 };
    for (const t of this.allTargets()) {
      const s = this.targetState(t.name);
      if (s === 'succeeded') out.deployed++;
      else if (s === 'excluded') out.excluded++;
      else if (s === 'skipped' && this.records.some((r) => r.get(t.name)?.notRun)) out.notRun++;
    }
    return out;
  }

  /** What a target page reads (pages.ts). */
  targetsView(): StateView {
    return {
      targets: this.allTargets(),
      records: this.records,
      outputsByTarget: this.outputsByTarget,
      excluded: this.excluded,
    };
  }

  /** One target (tails up to TAIL_LIMITS.targetDetail), or a page of targets (smaller tails): see pages.ts. */
  targetsPage(query: TargetsQueryInput): TargetsPage {
    return targetsPage(this.targetsView(), query);
  }

  targetDetail(t: TargetPlan, tailLimit: number): TargetDetail {
    return targetDetail(this, t.name, tailLimit);
  }

  /**
   * The finished rollout's target pages for its result (pages.ts), when they fit beside the rest of the result
   * (`resultBytes`): the client then answers every page from the result, as the `targets` query would.
   */
  finishedPages(resultBytes: number): PackedPages | undefined {
    return pagesWithin(packPages(this.targetsView(), this.plan.steps, Date.parse(this.startedAt)), resultBytes);
  }

  /** A target's overall state: excluded beats waiting beats running beats failed, and so on. */
  private targetState(target: string): TargetState {
    return targetState(this, target);
  }
}
