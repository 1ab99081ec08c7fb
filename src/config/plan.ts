// Turns a validated config plus a request ("web-farm v2 by U123") into the plan a rollout captures at start.
import { ownValue } from '../../domain/access';
import { checkMaxParallelism, MAX_PARALLELISM } from '../../domain/maxParallelism';
import type {
  DoubleHalfStepPlan,
  ExecStepPlan,
  FreezePlan,
  RampPlan,
  RolloutPlan,
  ScriptAction,
  StepPlan,
  TargetPlan,
  Window,
} from '../../domain/plan';
import { checkRelease, checkVariableValue } from '../../domain/variables';
import type { SecretRef } from '../../domain/secrets';
import { selectTargets, splitVariables, type Config } from './load';
import type { z } from 'zod';
import {
  ENVIRONMENT_VARIABLE,
  START_APPROVAL_STEP,
  type childStepSchema,
  type ParsedConfig,
  type ParsedStep,
} from './schema';
import { prerequisiteOf } from '../../domain/environments';

export class RequestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'RequestError';
  }
}

export interface RolloutRequest {
  deployable: string;
  release: string;
  requestedBy: string;
  variables?: Record<string, string>;
  /** The environment to roll out to: required for a deployable with environments, refused for one without. */
  environment?: string;
}

type DeployableSpec = ParsedConfig['deployables'][string];
type EnvironmentSpec = NonNullable<DeployableSpec['environments']>[string];

/**
 * The environment a request names, checked against the deployable: `undefined` for a deployable without
 * environments (then a request must not name one). Throws a RequestError naming what is wrong.
 */
export function resolveEnvironment(
  deployable: string,
  d: DeployableSpec,
  environment: string | undefined,
): EnvironmentSpec | undefined {
  const envs = d.environments;
  if (!envs) {
    if (environment !== undefined)
      throw new RequestError([`${deployable} has no environments (asked for "${environment}")`]);
    return undefined;
  }
  const known = Object.keys(envs).join(', ');
  if (environment === undefined) {
    throw new RequestError([
      `${deployable} has environments (${known}): say which one, e.g. \`${deployable} <release> ${Object.keys(envs)[0]}\``,
    ]);
  }
  const e = ownValue(envs, environment);
  if (!e) throw new RequestError([`${deployable} has no environment "${environment}" (known: ${known})`]);
  return e;
}

/** Who may start the deployable (in `environment`, when given): the environment's starters, else the deployable's. */
export function startersOf(d: DeployableSpec, environment: string | undefined): string[] {
  const e = environment !== undefined && d.environments ? ownValue(d.environments, environment) : undefined;
  return e?.starters ?? d.starters;
}

function toWindow(w: number | string | undefined): Window | undefined {
  if (w === undefined) return undefined;
  if (typeof w === 'number') return { count: w };
  return { percent: Number(w.slice(0, -1)) };
}

type RollingSpec = Extract<ParsedStep, { type: 'rolling' }>;

/** A rolling step's ramp: the `ramp:` form, or a `window:` given as a list. Undefined for a plain window. */
function toRamp(s: RollingSpec): RampPlan | undefined {
  const list = s.ramp?.window ?? (Array.isArray(s.window) ? s.window : undefined);
  if (!list) return undefined;
  const ramp: RampPlan = { windows: list.map((w) => toWindow(w) as Window) };
  const b = s.ramp?.between;
  if (b === 'manual') ramp.between = { manual: true };
  else if (b && (b.bakeSec !== undefined || b.manual)) {
    ramp.between = {
      ...(b.bakeSec !== undefined ? { bakeSec: b.bakeSec } : {}),
      ...(b.manual ? { manual: true } : {}),
    };
  }
  return ramp;
}

/** The deployable's freezes as the plan captures them (normalised UTC times, every freeze named). */
function toFreezes(freezes: ParsedConfig['deployables'][string]['freezes']): FreezePlan[] {
  return freezes.map((f, i) => ({
    name: f.name ?? `freezes[${i}]`,
    from: new Date(f.from).toISOString(),
    until: new Date(f.until).toISOString(),
    reason: f.reason,
  }));
}

export function buildPlan(config: Config, req: RolloutRequest): RolloutPlan {
  const d = ownValue(config.raw.deployables, req.deployable);
  if (!d) {
    const known = Object.keys(config.raw.deployables).join(', ') || 'none';
    throw new RequestError([`unknown deployable "${req.deployable}" (known: ${known})`]);
  }
  const env = resolveEnvironment(req.deployable, d, req.environment);
  const problems: string[] = [];
  const badRelease = checkRelease(req.release);
  if (badRelease) problems.push(badRelease);
  // The environment's variables over the deployable's; secret references are split off (they travel on targets).
  const declared = { ...d.variables, ...(env?.variables ?? {}) };
  const split = splitVariables(declared);
  const variables: Record<string, string> = { ...split.plain };
  if (env && req.environment !== undefined) variables[ENVIRONMENT_VARIABLE] = req.environment;
  for (const [k, v] of Object.entries(req.variables ?? {})) {
    // MaxParallelism needs no declaration: it is the one built-in knob a request may turn (see maxParallelism.ts).
    if (k === MAX_PARALLELISM) {
      const bad = checkMaxParallelism(v) ?? checkVariableValue(k, v);
      if (bad) problems.push(bad);
      variables[k] = v;
      continue;
    }
    if (ownValue(declared, k) === undefined) {
      problems.push(
        `unknown variable "${k}": ${req.deployable} declares ${Object.keys(declared).join(', ') || 'none'}`,
      );
      continue;
    }
    if (ownValue(split.secrets, k) !== undefined) {
      problems.push(`variable "${k}" is sensitive (taken from the worker): a request cannot set it`);
      continue;
    }
    const bad = checkVariableValue(k, v);
    if (bad) problems.push(bad);
    variables[k] = v;
  }
  if (problems.length > 0) throw new RequestError(problems);

  const timeoutDefault = config.raw.defaults.scriptTimeoutSec;
  const deployOnFailure = d.onFailure;
  const steps: StepPlan[] = d.process.map((s: ParsedStep): StepPlan => {
    if (s.type === 'manual') {
      return {
        type: 'manual',
        name: s.name,
        instructions: s.instructions,
        approvers: s.approvers,
        ...(s.timeoutSec !== undefined ? { timeoutSec: s.timeoutSec } : {}),
        onTimeout: s.onTimeout,
        runCondition: s.runCondition,
        ...(s.if !== undefined ? { if: s.if } : {}),
        ...(s.fourEyes ? { fourEyes: true } : {}),
      };
    }
    const stepOnFailure = s.onFailure ?? deployOnFailure;
    // One child step of a rolling or double-half step: a script, or an artifact to copy and verify.
    const childStep = (c: z.output<typeof childStepSchema>): ScriptAction => ({
      name: c.name,
      script: c.script ?? '',
      ...(c.artifact
        ? {
            artifact: {
              source: c.artifact.source,
              ...(c.artifact.sha256 !== undefined ? { sha256: c.artifact.sha256 } : {}),
              ...(c.artifact.sha256File !== undefined ? { sha256File: c.artifact.sha256File } : {}),
              dir: c.artifact.dir,
              keep: c.artifact.keep,
            },
          }
        : {}),
      timeoutSec: c.timeoutSec ?? timeoutDefault,
      runCondition: c.runCondition,
      ...(c.if !== undefined ? { if: c.if } : {}),
      onFailure: c.onFailure ?? stepOnFailure,
    });
    if (s.type === 'double-half') {
      const window = toWindow(s.window);
      const hook = (h: { script: string; timeoutSec?: number | undefined }) => ({
        script: h.script,
        timeoutSec: h.timeoutSec ?? timeoutDefault,
      });
      const nt = s.newTargets;
      const step: DoubleHalfStepPlan = {
        type: 'double-half',
        name: s.name,
        tags: s.tags,
        runCondition: s.runCondition,
        ...(s.if !== undefined ? { if: s.if } : {}),
        ...(window ? { window } : {}),
        // Resolved by validateConfig (absolute); the fallback only serves configs built without it.
        hookWorkdir: s.hookWorkdir ?? `${config.raw.defaults.workdir}/hooks/${req.deployable}/${s.name}`,
        provision: hook(s.provision),
        addToLoadBalancer: hook(s.addToLoadBalancer),
        decommission: hook(s.decommission),
        newTargets: {
          user: nt.user,
          ...(nt.privateKeyPath ? { privateKeyPath: nt.privateKeyPath } : {}),
          ...(nt.privateKeyEnv ? { privateKeyEnv: nt.privateKeyEnv } : {}),
          knownHostsPath: nt.knownHostsPath,
          workdir: nt.workdir ?? config.raw.defaults.workdir,
          tags: nt.tags,
          variables: nt.variables,
        },
        childSteps: s.childSteps.map(childStep),
      };
      return step;
    }
    const base = {
      name: s.name,
      tags: s.tags,
      runCondition: s.runCondition,
      ...(s.if !== undefined ? { if: s.if } : {}),
    };
    if (s.type === 'script') {
      const window = toWindow(s.maxParallelism);
      const step: ExecStepPlan = {
        type: 'script',
        ...base,
        ...(window ? { window } : {}),
        // The step's own condition gates the whole step; its single child always runs once the step does.
        childSteps: [
          {
            name: s.name,
            script: s.script,
            timeoutSec: s.timeoutSec ?? timeoutDefault,
            runCondition: 'success',
            onFailure: stepOnFailure,
          },
        ],
      };
      return step;
    }
    const ramp = toRamp(s);
    return {
      type: 'rolling',
      ...base,
      window: ramp ? (ramp.windows[0] as Window) : (toWindow(s.window as number | string | undefined) ?? { count: 1 }),
      ...(ramp ? { ramp } : {}),
      childSteps: s.childSteps.map(childStep),
    };
  });

  const approvers = env?.approvers ?? d.approvers;
  const starters = env?.starters ?? d.starters;
  if (env?.fourEyes) {
    // "The start needs four eyes": the rollout begins with a manual step its requester may not approve, so
    // nothing runs on a target before someone else said yes (the one rule for who answers, plus four eyes).
    steps.unshift({
      type: 'manual',
      name: START_APPROVAL_STEP,
      instructions: `Four eyes: ${req.requestedBy} asks to roll ${req.release} out to ${req.environment}. Someone else approves the start.`,
      approvers: [],
      onTimeout: 'abort',
      runCondition: 'success',
      fourEyes: true,
    });
  }
  const plan: RolloutPlan = {
    deployable: req.deployable,
    release: req.release,
    ...(env && req.environment !== undefined ? { environment: req.environment } : {}),
    requestedBy: req.requestedBy,
    variables,
    targets: withSecrets(selectTargets(config.targets, env?.targets ?? d.targets), split.secrets),
    steps,
    approvers: approvers.length > 0 ? approvers : starters,
    groups: config.raw.groups,
  };
  const requires = req.environment !== undefined ? prerequisiteOf(d.lifecycle, req.environment) : undefined;
  if (requires !== undefined) plan.requiresSuccessIn = requires;
  const budget = toWindow(d.failureBudget);
  if (budget) plan.failureBudget = budget;
  if (d.freezes.length > 0) plan.freezes = toFreezes(d.freezes);
  if (d.reminders) {
    const r = d.reminders;
    plan.reminders = {
      afterSec: r.after,
      ...(r.escalateAfter !== undefined ? { escalateAfterSec: r.escalateAfter } : {}),
      ...(r.escalateTo !== undefined
        ? { escalateTo: r.escalateTo.startsWith('@') ? { group: r.escalateTo } : { channel: r.escalateTo } }
        : {}),
    };
  }
  if (d.releaseCheck) {
    plan.releaseCheck = {
      script: d.releaseCheck.script,
      timeoutSec: d.releaseCheck.timeoutSec ?? timeoutDefault,
      workdir: d.releaseCheck.workdir ?? config.raw.defaults.workdir,
    };
  }
  return plan;
}

/**
 * The deployable's secret references copied onto each target (only references travel; the script activity reads
 * the values on the worker). A target's own variable of the same name, plain or secret, wins, as plain ones do.
 */
function withSecrets(targets: TargetPlan[], secrets: Record<string, SecretRef>): TargetPlan[] {
  const names = Object.keys(secrets);
  if (names.length === 0) return targets;
  return targets.map((t) => {
    const merged: Record<string, SecretRef> = {};
    for (const n of names) {
      if (ownValue(t.variables, n) === undefined) merged[n] = secrets[n] as SecretRef;
    }
    return Object.keys(merged).length > 0 || t.secrets ? { ...t, secrets: { ...merged, ...(t.secrets ?? {}) } } : t;
  });
}
