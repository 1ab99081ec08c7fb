// Double-half deployment (issue 12): a farm that can grow gets a new half instead of an in-place rollout. A provision
// script on the worker's host creates the new targets and prints them; the release is deployed to them (the step's
// child steps, as in a rolling step) and sanity-checked; they are added to the load balancer; then the old half is
// drained and decommissioned. Plain data and pure functions: the workflow and the activities share them.
import type { RunCondition, ScriptAction, TargetPlan, Window } from './plan';

/** A script run once on the worker's host (the `local` transport), not on a target. */
export interface WorkerHook {
  script: string;
  timeoutSec: number;
}

/** Connection settings every new target gets (the provision script prints only where each one is). */
export interface NewTargetTemplate {
  user: string;
  privateKeyPath?: string;
  privateKeyEnv?: string;
  /**
   * The known_hosts file the provision script appends the new targets' host keys to. Host keys are always checked:
   * a new target whose key is not in this file is refused at connect time, nothing runs on it.
   */
  knownHostsPath: string;
  workdir: string;
  tags: string[];
  variables: Record<string, string>;
}

export interface DoubleHalfStepPlan {
  type: 'double-half';
  name: string;
  /** The old half: the rollout's targets carrying one of these tags (all of them when empty). */
  tags: string[];
  runCondition: RunCondition;
  if?: string;
  /** Sliding window over the new targets (default: all at once). */
  window?: Window;
  /** Where the worker-host hooks run (their workdir, created if missing). */
  hookWorkdir: string;
  provision: WorkerHook;
  addToLoadBalancer: WorkerHook;
  decommission: WorkerHook;
  newTargets: NewTargetTemplate;
  /** Deploy and sanity-check each new target: the same per-target chain as a rolling step. */
  childSteps: ScriptAction[];
}

/** One target as the provision script printed it (validated by the activity). */
export interface ProvisionedTarget {
  name: string;
  host: string;
  port: number;
  variables?: Record<string, string>;
}

/** The line a provision script prints per new target: `##rollout[target {"name":"web5","host":"10.0.0.15"}]`. */
export const PROVISION_LINE_PREFIX = '##rollout[target ';

/** At most this many new targets per step (the list travels in workflow state). */
export const MAX_NEW_TARGETS = 2000;

/** A provisioned target as a full target plan, its connection settings from the step's template. */
export function newTargetPlan(template: NewTargetTemplate, p: ProvisionedTarget): TargetPlan {
  return {
    name: p.name,
    transport: 'ssh',
    host: p.host,
    port: p.port,
    user: template.user,
    tags: template.tags,
    workdir: template.workdir,
    ...(template.privateKeyPath ? { privateKeyPath: template.privateKeyPath } : {}),
    ...(template.privateKeyEnv ? { privateKeyEnv: template.privateKeyEnv } : {}),
    knownHostsPath: template.knownHostsPath,
    strictHostKeyChecking: true,
    variables: { ...template.variables, ...(p.variables ?? {}) },
  };
}

/** Where the switch is: what a failure leaves behind depends on it (see README, Double-half deployment). */
export type DoubleHalfPhase =
  | 'provisioning'
  | 'deploying'
  | 'switching'
  | 'decommissioning-old'
  | 'done'
  | 'rolling-back'
  | 'rolled-back'
  | 'failed';

/** The step's two halves as status shows them. */
export interface DoubleHalfStatus {
  phase: DoubleHalfPhase;
  /** The old half: count and the first names; its state (serving, drained and decommissioned, ...). */
  old: { count: number; names: string[]; state: 'serving' | 'decommissioning' | 'decommissioned' | 'left' };
  new: {
    count: number;
    names: string[];
    state: 'none' | 'deploying' | 'ready' | 'serving' | 'decommissioning' | 'decommissioned' | 'left';
  };
  /** What went wrong, when it did. */
  problem?: string;
}

/** `switching: old half (4) serving · new half (4) ready`, plus the problem when there is one. */
export function doubleHalfText(h: DoubleHalfStatus, withProblem = true): string {
  return `${h.phase}: old half (${h.old.count}) ${h.old.state} · new half (${h.new.count}) ${h.new.state}${
    withProblem && h.problem ? ` — ${h.problem}` : ''
  }`;
}
