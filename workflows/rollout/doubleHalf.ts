// A double-half step (domain/doubleHalf.ts): provision a new half on the worker's host, deploy and sanity-check it
// target by target (the same chain as a rolling step, with guided failure), add it to the load balancer, then drain
// and decommission the old half. Before the switch every failure (a provision, a deploy or a sanity check failing, a
// Fail answer, a cancel) decommissions the new half and leaves the old one serving. After the switch the new half
// serves; a failing decommission of the old half fails the rollout and leaves the old half as the script left it
// (the thread and status say so), for a person to finish by hand.
import { ActivityFailure, ApplicationFailure, condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { HookKind, WorkerHookOutput } from '../../activities/doubleHalf';
import { ifHolds, type RunStatus } from '../../domain/conditions';
import {
  newTargetPlan,
  type DoubleHalfStatus,
  type DoubleHalfStepPlan,
  type WorkerHook,
} from '../../domain/doubleHalf';
import type { ExecStepPlan, TargetPlan } from '../../domain/plan';
import { keepTail } from '../../domain/text';
import { windowSize } from '../../domain/window';
import { SUMMARY_LIST_LIMIT, type TargetStepDetail } from '../messages';
import { runTarget } from './steps';
import { targetFinished } from './telemetry';
import type { RolloutState } from './state';

const names = (ts: readonly TargetPlan[]): string[] => ts.slice(0, SUMMARY_LIST_LIMIT).map((t) => t.name);

function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

export async function runDoubleHalfStep(
  state: RolloutState,
  si: number,
  step: DoubleHalfStepPlan,
  runStatus: RunStatus,
): Promise<void> {
  const { plan } = state;
  const recs = state.records[si] as Map<string, TargetStepDetail>;
  const old = plan.targets.filter(
    (t) => !state.excluded.has(t.name) && (step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag))),
  );
  // The step's `if:` is judged once, on the old half's first target (the new half does not exist yet).
  const first = old[0] ?? plan.targets[0];
  if (first && !ifHolds(step.if, state.scopeFor(first, runStatus))) return;
  const halves: DoubleHalfStatus = {
    phase: 'provisioning',
    old: { count: old.length, names: names(old), state: 'serving' },
    new: { count: 0, names: [], state: 'none' },
  };
  state.doubleHalves[si] = halves;
  state.notify({ type: 'stepStarted', step: step.name, targets: old.slice(0, 50).map((t) => t.name) });

  const hook = async (
    kind: HookKind,
    half: 'old' | 'new',
    spec: WorkerHook,
    targets: readonly TargetPlan[],
  ): Promise<WorkerHookOutput> => {
    const { runWorkerHook } = proxyActivities<Activities>({
      startToCloseTimeout: `${spec.timeoutSec + 60}s`,
      heartbeatTimeout: '30s',
      // A retry re-attaches to the same run on the worker host (stable run id): the hook is started once.
      retry: { maximumAttempts: 3, initialInterval: '2s', backoffCoefficient: 2 },
    });
    try {
      return await runWorkerHook({
        rolloutId: state.rolloutId,
        stepName: step.name,
        hook: kind,
        half,
        spec,
        hookWorkdir: step.hookWorkdir,
        targets: targets.map((t) => ({ name: t.name, host: t.host, port: t.port, variables: t.variables })),
        release: plan.release,
        deployable: plan.deployable,
        requestedBy: plan.requestedBy,
        variables: plan.variables,
        ...(kind === 'provision' ? { takenNames: state.allTargets().map((t) => t.name) } : {}),
      });
    } catch (err) {
      return { exitCode: null, tail: '', error: failureText(err) };
    }
  };
  const hookFailed = (kind: HookKind, out: WorkerHookOutput): string =>
    `${kind}: ${out.error ?? 'failed'}${out.tail ? `: ${keepTail(out.tail, 400)}` : ''}`;

  /** Before the switch: the new half goes (and never serves); the old half keeps serving. */
  const abandonNew = async (why: string, created: readonly TargetPlan[]): Promise<void> => {
    halves.problem = why;
    halves.phase = 'rolling-back';
    if (created.length > 0) {
      halves.new.state = 'decommissioning';
      const out = await hook('decommission', 'new', step.decommission, created);
      halves.new.state = out.error ? 'left' : 'decommissioned';
      if (out.error)
        halves.problem = `${why}; decommissioning the new half failed too: ${hookFailed('decommission', out)}`;
    }
    halves.phase = phaseAfterAbandon(halves);
    state.stop('failed', `${step.name}: ${halves.problem} (the old half keeps serving)`);
  };

  // 1. Provision (on the worker's host).
  const prov = await hook('provision', 'new', step.provision, []);
  const created = (prov.targets ?? []).map((p) => newTargetPlan(step.newTargets, p));
  state.dynamicTargets.push(...created);
  halves.new = { count: created.length, names: names(created), state: 'deploying' };
  if (prov.error) return abandonNew(hookFailed('provision', prov), created);

  // 2. Deploy and sanity-check the new half: the step's chain on each new target, in a sliding window.
  halves.phase = 'deploying';
  for (const t of created) recs.set(t.name, { step: step.name, state: 'pending', children: [] });
  const chainStep: ExecStepPlan = {
    type: 'rolling',
    name: step.name,
    tags: [],
    runCondition: step.runCondition,
    childSteps: step.childSteps,
  };
  const window = step.window ? windowSize(step.window, created.length) : Math.max(1, created.length);
  state.stepWindows[si] = window;
  const flying = state.inFlight[si] as Set<string>;
  const running: Promise<void>[] = [];
  for (const t of created) {
    await condition(
      () =>
        !state.mayStart(runStatus) ||
        (!(state.steerable && state.steering.held()) && flying.size < window && state.pendingDecisions().length === 0),
    );
    if (!state.mayStart(runStatus)) break;
    const rec = recs.get(t.name) as TargetStepDetail;
    if (state.excluded.has(t.name)) {
      rec.state = 'excluded';
      continue;
    }
    flying.add(t.name);
    running.push(
      runTarget(state, si, chainStep, t, rec, runStatus).finally(() => {
        flying.delete(t.name);
        targetFinished(plan, step.name, t.name, rec.state);
      }),
    );
  }
  await Promise.all(running);
  for (const rec of recs.values()) if (rec.state === 'pending') rec.state = 'skipped';
  // Every new target must be ready (an excluded or skipped one would be a smaller farm than the one replaced).
  const notReady = created.filter((t) => recs.get(t.name)?.state !== 'succeeded');
  if (state.stopKind || notReady.length > 0) {
    const why = notReady.length
      ? `new half not ready before the switch (${notReady
          .slice(0, 5)
          .map((t) => `${t.name} ${recs.get(t.name)?.state ?? '?'}`)
          .join(', ')}${notReady.length > 5 ? `, ${notReady.length - 5} more` : ''})`
      : `stopped before the switch (${state.stopReason ?? state.stopKind})`;
    return abandonNew(why, created);
  }
  halves.new.state = 'ready';

  // 3. The switch: the new half joins the load balancer. A failure here still abandons the new half (its
  //    decommission script is told ROLLOUT_HALF=new and must take it out of the load balancer if it got in).
  halves.phase = 'switching';
  const add = await hook('addToLoadBalancer', 'new', step.addToLoadBalancer, created);
  if (add.error) return abandonNew(hookFailed('addToLoadBalancer', add), created);
  halves.new.state = 'serving';

  // 4. Drain and decommission the old half. From here the new half serves whatever happens.
  halves.phase = 'decommissioning-old';
  halves.old.state = 'decommissioning';
  const dec = await hook('decommission', 'old', step.decommission, old);
  if (dec.error) {
    halves.old.state = 'left';
    halves.phase = 'failed';
    halves.problem = `after the switch: the new half serves; decommissioning the old half failed: ${hookFailed('decommission', dec)}`;
    state.stop('failed', `${step.name}: ${halves.problem} (finish it by hand)`);
    return;
  }
  halves.old.state = 'decommissioned';
  halves.phase = 'done';
}

function phaseAfterAbandon(h: DoubleHalfStatus): DoubleHalfStatus['phase'] {
  return h.new.state === 'left' ? 'failed' : 'rolled-back';
}
