// Domain types shared by the client (src/), the workflows and the activities.
// Everything here is plain data: it travels as workflow/activity input and must stay JSON-serialisable.
import type { GroupSpec } from './access';
import type { DoubleHalfStepPlan } from './doubleHalf';

export type { DoubleHalfStepPlan };
import type { SecretRef } from './secrets';

/** How the worker reaches a target. */
export type TransportKind = 'ssh' | 'local';

/** One server, as captured in the plan when a rollout starts. Holds no secrets, only where to find them. */
export interface TargetPlan {
  name: string;
  transport: TransportKind;
  /** ssh: host name or address; unused for local. */
  host: string;
  port: number;
  user: string;
  tags: string[];
  /** Directory the scripts run in (created if missing). The target's lock file lives here. */
  workdir: string;
  /** ssh: path of the private key file on the worker machine. */
  privateKeyPath?: string;
  /** ssh: name of an environment variable on the worker that holds the private key. */
  privateKeyEnv?: string;
  /** ssh: OpenSSH known_hosts file used to verify the host key. */
  knownHostsPath?: string;
  /** ssh: host-key checking; on unless explicitly turned off. */
  strictHostKeyChecking: boolean;
  variables: Record<string, string>;
  /**
   * Variables taken from the worker (domain/secrets.ts): references only, resolved and masked by the script
   * activity. The deployable's secret variables are copied onto each target when the plan is built. Absent in
   * plans recorded before secrets existed.
   */
  secrets?: Record<string, SecretRef>;
  /**
   * Set for a target shared between deployables: its lock key (a declared shared name, else `host:port`). Two
   * rollouts never run on it at once (workflows/targetLock.ts).
   */
  shared?: string;
}

/** When a step or child step runs, judged on the status so far. */
export type RunCondition = 'success' | 'failure' | 'always';

export interface ScriptAction {
  name: string;
  script: string;
  timeoutSec: number;
  runCondition: RunCondition;
  /** Optional variable expression; the step runs only when it is also true. */
  if?: string;
  onFailure: 'guided' | 'fail';
  /** An artifact child step: `script` is unused; the activity uploads, verifies and places the file. */
  artifact?: ArtifactPlan;
}

/** A file copied from the worker to the target over SFTP, its SHA-256 verified there before anything uses it. */
export interface ArtifactPlan {
  /** Path of the file on the worker (`#{Release}` and variables substituted). */
  source: string;
  /** The expected SHA-256 (hex, variables substituted)... */
  sha256?: string;
  /** ...or a file on the worker holding it (`sha256sum` format); default `<source>.sha256`. */
  sha256File?: string;
  /** Directory under the target's workdir that holds one sub-directory per release. */
  dir: string;
  /** Releases kept in `dir` (the newest, counting the one just placed); older ones are pruned. */
  keep: number;
}

/** Either a fixed count or a percentage of the step's targets (rounded up, at least 1). */
export type Window = { count: number } | { percent: number };

/**
 * A ramped window: the step runs in stages, stage i starting `windows[i]` targets together and finishing them
 * before the next stage starts (the last entry repeats until every target has run). `between` holds the next
 * stage back: a bake time, a manual Proceed / Abort, or both (bake first).
 */
export interface RampPlan {
  windows: Window[];
  between?: { bakeSec?: number; manual?: boolean };
}

/**
 * One entry of a deployable's process. A plain script step is a chain of one child step that runs on all its
 * targets at once (window = maxParallelism or all); a rolling step is a chain of child steps in a sliding window.
 */
export interface ExecStepPlan {
  type: 'script' | 'rolling';
  name: string;
  tags: string[];
  /** undefined = all targets at once. */
  window?: Window;
  /** Rolling steps only: a ramp instead of one sliding window (`window` then holds the ramp's first entry). */
  ramp?: RampPlan;
  runCondition: RunCondition;
  if?: string;
  childSteps: ScriptAction[];
}

export interface ManualStepPlan {
  type: 'manual';
  name: string;
  instructions: string;
  /** Slack user ids, `@group` names or `cli:<name>` identities; empty = the deployable's approvers. */
  approvers: string[];
  timeoutSec?: number;
  onTimeout: 'proceed' | 'abort';
  runCondition: RunCondition;
  if?: string;
  /** Four eyes: the rollout's requester may not Proceed (they may Abort); someone else approves. */
  fourEyes?: boolean;
}

export type StepPlan = ExecStepPlan | ManualStepPlan | DoubleHalfStepPlan;

/** Everything a rollout needs, captured when it starts: later config edits never reach a running rollout. */
export interface RolloutPlan {
  deployable: string;
  release: string;
  /** The deployable's environment this rollout runs in (deployables with environments only). */
  environment?: string;
  /**
   * The environment of the lifecycle this release must have succeeded in first: the deployable's queue refuses
   * the rollout otherwise (see domain/environments.ts).
   */
  requiresSuccessIn?: string;
  requestedBy: string;
  /** Deployable variables merged with the variables given for this rollout (target variables live on targets). */
  variables: Record<string, string>;
  targets: TargetPlan[];
  steps: StepPlan[];
  /** A failure budget over the whole rollout; past it the rollout stops asking and fails. */
  failureBudget?: Window;
  /** Who may answer decisions: user ids, `@group` names (expanded when the rollout starts). Empty = anyone. */
  approvers: string[];
  /** The config's declared groups: name → members, or `{ slack: handle }` (expanded by the bot's directory). */
  groups: Record<string, GroupSpec>;
  /** Set for rollouts started from Slack: where the root message is, and the bot's task queue that posts. */
  slack?: SlackPlan;
  /** Set when this rollout rolls a deployable back (see domain/releases.ts): what it undoes. */
  rollback?: RollbackPlan;
  /** The deployable's deploy freezes, captured at request time: while one is in force nothing new starts. */
  freezes?: FreezePlan[];
  /** Who overrode the freezes in force when the rollout was requested, and why (those freezes do not hold it). */
  freezeOverride?: FreezeOverride;
  /** Reminders and escalation of pending decisions (durable timers in the rollout workflow). */
  reminders?: RemindersPlan;
  /** A script run on the worker's machine before any target is touched; its failure fails the rollout. */
  releaseCheck?: ReleaseCheckPlan;
}

export interface RemindersPlan {
  /** Seconds after a decision is asked: its approvers are mentioned again in the thread. */
  afterSec: number;
  /** Seconds after a decision is asked: it is escalated to `escalateTo`. */
  escalateAfterSec?: number;
  /** A channel (`#name` or id) posted to with a link to the thread, or an `@group` mentioned in the thread. */
  escalateTo?: { channel: string } | { group: string };
}

export interface ReleaseCheckPlan {
  script: string;
  timeoutSec: number;
  /** The worker-side directory it runs in. */
  workdir: string;
}

export interface RollbackPlan {
  /** The rollout being rolled back: the deployable's latest release when the rollback was requested. */
  of: string;
  /** The release it had rolled out (the one being replaced). */
  fromRelease: string;
  /** Only the targets that began receiving `fromRelease`, in reverse start order (it failed or was stopped). */
  partial: boolean;
}

/** A time window in which rollouts of a deployable are refused, and a running one holds (absolute UTC times). */
export interface FreezePlan {
  /** Its name in messages and overrides (the config's `name`, else `freezes[i]`). */
  name: string;
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  until: string;
  reason: string;
}

export interface FreezeOverride {
  by: string;
  reason: string;
  at: string;
  /** The names of the freezes that were in force and are overridden. */
  freezes: string[];
}

export interface SlackPlan {
  channel: string;
  /** The root message the bot posted when the rollout was requested; the thread hangs off it. */
  ts: string;
  /** Task queue served by the bot process for Slack activities. */
  taskQueue: string;
}
