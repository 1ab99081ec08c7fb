// Every query and update of the rollout workflow, defined once: the CLI, the bot and the workflow import these.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ChildResult, ChildState } from '../domain/chain';
import type { DecisionChoice } from '../domain/decisions';
import type { DoubleHalfStatus } from '../domain/doubleHalf';
import type { FreezeOverride, RolloutPlan, TargetPlan } from '../domain/plan';
import type { TargetOutcome } from '../domain/releases';
import type { SteeringRecord } from './steeringMessages';
import type { PackedStepRecords, PackedTargets } from './rollout/compact';
import type { PackedPages } from './rollout/pages';

export type TargetState = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'excluded';
export type RolloutStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'aborted';
export type { ChildResult, ChildState };

export interface TargetStepDetail {
  step: string;
  state: TargetState;
  /** With state skipped: nothing ran on this target in this step because it could not be reached. */
  notRun?: boolean;
  startedAt?: string;
  endedAt?: string;
  children: ChildResult[];
  /** A shared target waiting for its lock: which, and since when (another rollout is on it). */
  waitingOn?: { lock: string; since: string };
}

export interface TargetDetail {
  name: string;
  /** The target's overall state: excluded beats failed beats running, etc. */
  state: TargetState;
  steps: TargetStepDetail[];
  outputs: Record<string, Record<string, string>>;
}

export interface StepSummary {
  name: string;
  type: 'script' | 'rolling' | 'manual' | 'double-half';
  state: 'pending' | 'running' | 'done' | 'skipped';
  counts: Record<TargetState, number>;
  /** At most SUMMARY_LIST_LIMIT names; inFlightCount has the full number. */
  inFlight: string[];
  inFlightCount: number;
  window?: number;
  /** A ramped step: the stage it is in (1-based) of how many, and what holds the next stage back right now. */
  ramp?: StepRamp;
  /** Set when MaxParallelism or a window change replaced the configured window: what the config said. */
  configuredWindow?: string;
  /** A double-half step: where it is and both halves (the old one the plan's, the new one provisioned). */
  doubleHalf?: DoubleHalfStatus;
}

export interface StepRamp {
  /** `1, 2, 50%` as configured. */
  windows: string;
  stage: number;
  stages: number;
  /** Waiting between stages: a bake timer (until when) or a manual Proceed. */
  waiting?: { kind: 'bake'; until: string } | { kind: 'manual'; decisionId: string };
}

export interface DecisionAnswer {
  choice: DecisionChoice;
  by: string;
  at: string;
}

export interface Decision {
  id: string;
  kind: 'failure' | 'manual';
  step: string;
  target?: string;
  childStep?: string;
  exitCode?: number | null;
  tail?: string;
  instructions?: string;
  createdAt: string;
  choices: DecisionChoice[];
  answer?: DecisionAnswer;
  /** The Slack card showing this decision, once posted. */
  cardTs?: string;
  /** The failed child step never started on the target: Ignore records it as skipped (not run). */
  notRun?: boolean;
  /** Run-once: the script's outcome is unknown (contact lost) or it never started; see ChildResult.outcome. */
  outcome?: 'unknown' | 'not-started';
  /** When its approvers were reminded (reminders configured, still pending then). */
  remindedAt?: string;
  /** When it was escalated, and to what (`#channel` or `@group`). */
  escalatedAt?: string;
  escalatedTo?: string;
  /** Four eyes: who may not Proceed here (the rollout's requester); the card says so. */
  notBy?: string;
}

/** The release check run on the worker before any target (deployable's `releaseCheck`). */
export interface ReleaseCheckSummary {
  state: 'running' | 'passed' | 'failed';
  startedAt: string;
  endedAt?: string;
  exitCode?: number | null;
  tail?: string;
}

export interface RolloutSummary {
  rolloutId: string;
  deployable: string;
  release: string;
  requestedBy: string;
  status: RolloutStatus;
  /** Why it is stopping or stopped (who cancelled, which target failed...). */
  stopReason?: string;
  startedAt: string;
  endedAt?: string;
  totalTargets: number;
  currentStep?: string;
  steps: StepSummary[];
  pendingDecisions: Decision[];
  /** The most recent answered decisions (at most SUMMARY_LIST_LIMIT). */
  recentDecisions: Decision[];
  /** Where the rollout's Slack root message is (rollouts started from Slack). */
  slack?: { channel: string; ts: string };
  /** Targets waiting for a shared target's lock (at most SUMMARY_LIST_LIMIT). */
  waitingOnTargets?: Array<{ target: string; lock: string; since: string }>;
  /** The release check, when the deployable has one. */
  releaseCheck?: ReleaseCheckSummary;
  /** The first failure that stopped the rollout, if any. */
  failure?: { step: string; target: string; childStep: string; exitCode?: number | null; error?: string };
  /** Per target, over the whole rollout: deployed (succeeded), excluded, and skipped because nothing ran. */
  targetOutcomes?: { deployed: number; excluded: number; notRun: number };
  /** The rollout can be paused, resumed and have its window changed (started by code that knows steering). */
  steerable?: boolean;
  /** Paused by a person: nothing new starts until someone resumes it. */
  paused?: { by: string; at: string; reason?: string };
  /** Held by a deploy freeze: nothing new starts until it ends, then the rollout resumes by itself. */
  frozen?: { freeze: string; reason: string; until: string };
  /** The window every rolling step uses instead of its own (MaxParallelism, or a window change). */
  windowOverride?: { window: number; by: string; at: string };
  /** The freezes in force when it was requested, overridden by someone with a reason. */
  freezeOverride?: FreezeOverride;
  /** The latest steering records (at most SUMMARY_LIST_LIMIT), oldest first. */
  steering?: SteeringRecord[];
}

export const SUMMARY_LIST_LIMIT = 20;
export const DETAIL_PAGE_LIMIT = 50;

export interface TargetsQueryInput {
  target?: string;
  offset?: number;
  limit?: number;
}
export interface TargetsPage {
  total: number;
  offset: number;
  targets: TargetDetail[];
}

export interface CancelInput {
  by: string;
  reason?: string;
}
export interface CancelResult {
  status: RolloutStatus;
  message: string;
}

export interface DecideInput {
  decisionId: string;
  choice: DecisionChoice;
  by: string;
}
export interface DecideResult {
  decisionId: string;
  choice: DecisionChoice;
  by: string;
  at: string;
}

export interface RolloutResult {
  status: RolloutStatus;
  summary: RolloutSummary;
  /**
   * Every target that began receiving the release, in the order it began, and whether it received it (every step
   * that ran on it succeeded). The deployable's release history is made from this. Absent in results of rollouts
   * that ended before it was reported.
   */
  targets?: TargetOutcome[];
  /**
   * What the `targets` query reads, packed (rollout/pages.ts): the client computes any page of the finished rollout
   * from it with the query's own function, without a query (which on a closed workflow replays its whole history).
   * Absent when it would not fit in the result, and in results of rollouts that ended before it was recorded: the
   * client then queries.
   */
  pages?: PackedPages;
}

export interface RolloutInput {
  plan: RolloutPlan;
  /** Continue as new at the next step boundary once the history has this many events (default 10,000). */
  continueAsNewAfterEvents?: number;
  /** State carried over continue-as-new (set by the workflow itself). */
  carried?: CarriedRolloutState;
}

/**
 * What a rollout carries into its next run when it continues as new between steps, so its history stays bounded
 * however many steps and targets it has. Output tails of finished steps are not carried (they stay in the earlier
 * run's history and in the target chains' own histories); states, timings, exit codes and outputs are.
 */
export interface CarriedRolloutState {
  nextStep: number;
  runs: number;
  startedAt: string;
  stopKind?: 'failed' | 'cancelled' | 'aborted';
  stopReason?: string;
  firstFailure?: RolloutSummary['failure'];
  decisionSeq: number;
  /** Answered decisions, the latest SUMMARY_LIST_LIMIT, tails clipped. */
  decisions: Decision[];
  stepStates: Array<StepSummary['state']>;
  stepWindows: Array<number | null>;
  records: Array<Array<[string, TargetStepDetail]>>;
  outputsByTarget: Array<[string, Record<string, Record<string, string>>]>;
  excluded: string[];
  failedTargets: string[];
  /** Targets in the order they began receiving the release (absent in runs carried before it was kept). */
  startOrder?: string[];
  approvers: string[];
  manualApprovers: Array<[string, string[]]>;
  /** Pause, window override, freeze in force and the latest steering records (rollouts with steering). */
  steering?: CarriedSteering;
  /** Targets provisioned by double-half steps (they are not in the plan). */
  dynamicTargets?: TargetPlan[];
  /** Per step: a double-half step's halves. */
  doubleHalves?: Array<DoubleHalfStatus | null>;
  /**
   * Runs with `scale.step-continue` (workflows/rollout/stepContinue.ts): the plan's targets, the records and the
   * start order packed (workflows/rollout/compact.ts); `plan.targets` and `records` are then empty, `startOrder`
   * absent.
   */
  packed?: CarriedPacked;
  /** Continued as new in the middle of step `nextStep`: how it goes on (its targets still pending start). */
  resume?: StepResume;
}

export interface CarriedPacked {
  targets: PackedTargets;
  /** Per step: its ramp and the configured window an override replaced, as status shows them. */
  stepRamps?: Array<StepRamp | null>;
  configuredWindows?: Array<string | null>;
  records: Array<PackedStepRecords | null>;
  /** Indexes in the rollout's targets (the plan's, then provisioned ones), or names. */
  startOrder: Array<number | string>;
}

/** Where a step that continued as new in its middle stands (see workflows/rollout/stepContinue.ts). */
export interface StepResume {
  step: number;
  /** The status the step started under (a step started after a Fail keeps running as an on-failure step). */
  runStatus: 'success' | 'failure';
  /** How many targets the step had when it started (its window percentage is of these). */
  targetCount: number;
  /** Where its ramp is. */
  pace?: { stage: number; startedInStage: number };
}

export interface CarriedSteering {
  paused?: NonNullable<RolloutSummary['paused']>;
  frozen?: NonNullable<RolloutSummary['frozen']>;
  windowOverride?: NonNullable<RolloutSummary['windowOverride']>;
  records: SteeringRecord[];
}

export const summaryQuery = defineQuery<RolloutSummary>('summary');
export const targetsQuery = defineQuery<TargetsPage, [TargetsQueryInput]>('targets');
export const decisionsQuery = defineQuery<Decision[]>('decisions');
export const cancelUpdate = defineUpdate<CancelResult, [CancelInput]>('cancel');
export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
