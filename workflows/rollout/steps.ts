// Running a rollout's steps: approvers expanded once, then each step in turn. A script or rolling step runs its
// targets in a sliding window, each target's chain as one activity (a child workflow before inline-chain), a
// failure handed to a human as a
// decision; a manual step waits for its answer (or its timeout).
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  executeChild,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ifHolds, runConditionHolds, type RunStatus } from '../../domain/conditions';
import { FAILURE_CHOICES, MANUAL_CHOICES, type DecisionChoice } from '../../domain/decisions';
import type { ExecStepPlan, ManualStepPlan, TargetPlan } from '../../domain/plan';
import { keepTail, TAIL_LIMITS } from '../../domain/text';
import { substituteText } from '../../domain/variables';
import { describeRamp } from '../../domain/ramp';
import type { ChildResult, TargetStepDetail } from '../messages';
import { recordedRuns } from '../../domain/chain';
import { RUN_ONCE_ATTEMPT_SLACK_SEC, targetChainWorkflow, type ChainInput, type ChainResult } from '../targetChain';
import { runDoubleHalfStep } from './doubleHalf';
import { targetFinished } from './telemetry';
import { nowMs } from './clock';
import { Pacer } from './pacing';
import { acquireTarget, PATCH_SHARED_TARGETS, releaseTarget } from './sharedTargets';
import { now, type RolloutState } from './state';
import { shouldContinue } from './stepContinue';

/** Who may answer: the rollout's approvers and each manual step's own, `@group`s expanded (first run only). */
export async function resolveApprovers(state: RolloutState): Promise<void> {
  const { plan } = state;
  // From Slack, groups are expanded by the bot's worker (it holds the Slack directory); otherwise locally.
  const { expandApprovers } = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    ...(plan.slack ? { taskQueue: plan.slack.taskQueue, scheduleToCloseTimeout: '1 hour' } : {}),
  });
  state.approvers = new Set(await expandApprovers({ approvers: plan.approvers, groups: plan.groups }));
  for (const step of plan.steps) {
    if (step.type === 'manual' && step.approvers.length > 0) {
      state.manualApproverSets.set(
        step.name,
        new Set(await expandApprovers({ approvers: step.approvers, groups: plan.groups })),
      );
    }
  }
}

/** Step `si`, unless the rollout is cancelled or aborted or the step's run condition does not hold. */
export async function runStep(state: RolloutState, si: number): Promise<void> {
  const step = state.plan.steps[si] as (typeof state.plan.steps)[number];
  // The previous run continued as new in the middle of this step: it goes on with its pending targets, under the
  // status it started with (its loop sees a stop or a pause that came since).
  if (state.resume?.step === si && (step.type === 'script' || step.type === 'rolling')) {
    state.currentStep = step.name;
    await runExecStep(state, si, step, state.resume.runStatus);
    state.stepStates[si] = 'done';
    return;
  }
  // Paused or frozen: the next step waits too (nothing new starts), unless the rollout is cancelled or aborted.
  if (state.steerable) {
    await condition(() => !state.steering.held() || state.stopKind === 'cancelled' || state.stopKind === 'aborted');
  }
  const runStatus = state.stopKind === 'failed' ? 'failure' : 'success';
  if (
    state.stopKind === 'cancelled' ||
    state.stopKind === 'aborted' ||
    !runConditionHolds(step.runCondition, runStatus)
  ) {
    state.stepStates[si] = 'skipped';
    return;
  }
  state.currentStep = step.name;
  state.stepStates[si] = 'running';
  if (step.type === 'manual') await runManualStep(state, step, runStatus);
  else if (step.type === 'double-half') await runDoubleHalfStep(state, si, step, runStatus);
  else await runExecStep(state, si, step, runStatus);
  state.stepStates[si] = 'done';
}

async function runExecStep(state: RolloutState, si: number, step: ExecStepPlan, runStatus: RunStatus): Promise<void> {
  const recs = state.records[si] as Map<string, TargetStepDetail>;
  // Going on where the previous run continued as new (stepContinue.ts): the records are carried, the targets
  // still `pending` are those left to start.
  const resume = state.resume?.step === si ? state.resume : undefined;
  state.resume = undefined;
  const targets = state.plan.targets.filter(
    (t) => !state.excluded.has(t.name) && (step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag))),
  );
  if (!resume) for (const t of targets) recs.set(t.name, { step: step.name, state: 'pending', children: [] });
  const candidates = state.plan.targets.filter(
    (t) => step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag)),
  );
  const targetCount = resume?.targetCount ?? targets.length;
  const pace = new Pacer(state, si, step, targetCount);
  if (resume?.pace) pace.restore(resume.pace);
  state.pacers[si] = pace;
  pace.show();
  if (!resume) announceStep(state, step, targets, pace);
  const flying = state.inFlight[si] as Set<string>;
  const running: Promise<void>[] = [];
  // Lean starts: the first target that failed for good (an error, not a script failure: those are results).
  let failure: { e: unknown } | undefined;
  let startedThisRun = 0;
  let startsThisPass = 0;
  let continueHere = false;
  for (const t of targets) {
    if (resume && recs.get(t.name)?.state !== 'pending') continue;
    if (state.steerable) {
      // A target that will not run opens no ramp stage (nor waits out a bake before it).
      const rec = recs.get(t.name) as TargetStepDetail;
      if (state.excluded.has(t.name)) {
        rec.state = 'excluded';
        continue;
      }
      if (!ifHolds(step.if, state.scopeFor(t, runStatus))) {
        rec.state = 'skipped';
        continue;
      }
      if (pace.stageFull()) {
        // A ramp's next stage waits for the whole stage before it to finish (a canary proves itself first).
        await condition(
          () =>
            !state.mayStart(runStatus) ||
            pace.overridden() ||
            (flying.size === 0 && state.pendingDecisions().length === 0),
        );
        if (state.mayStart(runStatus) && !pace.overridden()) await betweenStages(state, si, pace, runStatus);
        if (!state.mayStart(runStatus)) break;
        pace.nextStage();
        pace.show();
        if (!pace.overridden()) {
          state.notify({
            type: 'rampStage',
            step: step.name,
            stage: pace.stage + 1,
            stages: pace.stageCount,
            window: pace.window(),
            phase: 'started',
          });
        }
      }
    }
    // Sliding window: start the next target as soon as any in-flight one finishes; never while a decision waits
    // (nor while the rollout is paused or frozen).
    const mayGoOn = () =>
      !state.mayStart(runStatus) ||
      (!(state.steerable && state.steering.held()) &&
        flying.size < pace.window() &&
        state.pendingDecisions().length === 0);
    // Lean starts: a slot that is already free starts its target at once, without a condition (see PATCH_LEAN_STARTS).
    if (!state.leanStarts || !mayGoOn()) await condition(mayGoOn);
    if (!state.mayStart(runStatus)) break;
    const rec = recs.get(t.name) as TargetStepDetail;
    if (state.excluded.has(t.name)) {
      rec.state = 'excluded';
      continue;
    }
    if (!ifHolds(step.if, state.scopeFor(t, runStatus))) {
      rec.state = 'skipped';
      continue;
    }
    if (shouldContinue(state.stepContinue, workflowInfo().historyLength, flying.size, startedThisRun)) {
      // Past the threshold: this target and the rest start in the next run (continued as new below).
      continueHere = true;
      break;
    }
    startedThisRun++;
    flying.add(t.name);
    pace.started();
    const ended = () => {
      flying.delete(t.name);
      targetFinished(state.plan, step.name, t.name, rec.state);
    };
    if (state.leanStarts) startLean(state, si, step, t, rec, runStatus, { ended, failed: (e) => (failure ??= { e }) });
    else running.push(runTarget(state, si, step, t, rec, runStatus).finally(ended));
    if (state.startBatch && ++startsThisPass >= STARTS_PER_PASS) {
      // The next targets start in the SDK's next pass over blocked conditions (see PATCH_START_BATCH).
      startsThisPass = 0;
      await nextPass();
    }
  }
  if (state.leanStarts) {
    // Every started target has ended (or one failed for good, as Promise.all would reject on it).
    await condition(() => flying.size === 0 || failure !== undefined);
    if (failure) throw failure.e;
  } else await Promise.all(running);
  // Continue as new in the middle of the step, unless the rollout stopped while its targets finished (then the
  // rest is skipped, as for any stop).
  if (continueHere && state.stepContinue && state.mayStart(runStatus)) {
    await state.stepContinue.go({
      step: si,
      runStatus,
      targetCount,
      ...(pace.ramped ? { pace: pace.snapshot() } : {}),
    });
  }
  state.pacers[si] = undefined;
  for (const [name, rec] of recs) {
    if (rec.state === 'pending') rec.state = 'skipped';
    // Targets that never started (skipped by `if:`, excluded earlier, left when the rollout stopped).
    if (rec.startedAt === undefined) targetFinished(state.plan, step.name, name, rec.state);
  }
  // A step that deployed nowhere (every target excluded, now or earlier, or not reachable and ignored) is not a
  // success, whatever the answers were: the rollout fails, saying so.
  if (state.honest && !state.stopKind && candidates.length > 0) {
    const nowhere = candidates.every((t) => {
      const rec = recs.get(t.name);
      return state.excluded.has(t.name) || rec?.state === 'excluded' || (rec?.state === 'skipped' && rec.notRun);
    });
    if (nowhere) {
      state.stop('failed', `${step.name}: nothing deployed (every target was excluded or could not be reached)`);
    }
  }
}

/**
 * Rollouts started since this patch start at most STARTS_PER_PASS targets in one call into the workflow's VM.
 * Without it a step's loop starts a whole window in one go (a condition that already holds resolves at once), and
 * the SDK allows one call 5 s of wall time ("Script execution timed out after 5000ms": the workflow task fails
 * and is retried from scratch). Every start creates a dozen promises, and the SDK records a source-mapped stack
 * trace for each: a 500-target window (10,000 targets at 5%) took 3-12 s in one call on a loaded 2-core machine,
 * and the first workflow task of each run failed over and over (bench:scale, issue 13). The loop now waits for the
 * SDK's next pass after every STARTS_PER_PASS starts: each pass is a call of its own, with its own 5 s. No
 * command or event comes of it; rollouts started before the patch replay as they ran.
 */
export const PATCH_START_BATCH = 'scale.start-batch';
export const STARTS_PER_PASS = 50;

/**
 * Rollouts started since this patch start and follow each target with fewer promises: about 4 instead of 16 per target
 * on a rolling step. The SDK's promise hook records a source-mapped stack trace for every promise a workflow
 * creates (its stack-trace query), and that was ~70% of the rollout workflow's CPU: at 10,000 targets (window 500)
 * one workflow task took 10-15 s, past its 10 s timeout (bench:scale, issue 13). With it: a slot already free
 * starts its target without a condition; a target's chain is one async function that awaits the activity itself
 * (no runTarget / runChainActivity layers, no .finally); the step waits for its targets with one condition instead
 * of Promise.all over every target's promise. Same commands in the same order for one target; rollouts started
 * before it replay as they ran.
 */
export const PATCH_LEAN_STARTS = 'scale.lean-starts';

interface TargetEnd {
  /** The target's chain ended (whatever its outcome). */
  ended(): void;
  /** The chain threw (a bug or a failure for good, never a script's failure): the step rethrows it. */
  failed(e: unknown): void;
}

/** Starts one target's chain (lean starts): no promise kept, its end reported through `end`. */
function startLean(
  state: RolloutState,
  si: number,
  step: ExecStepPlan,
  t: TargetPlan,
  rec: TargetStepDetail,
  runStatus: RunStatus,
  end: TargetEnd,
): void {
  // A shared target takes its lock first (rare: the promise layers do not matter there).
  if (t.shared) {
    void runTarget(state, si, step, t, rec, runStatus).then(end.ended, (e: unknown) => {
      end.ended();
      end.failed(e);
    });
    return;
  }
  void runTargetChains(state, si, step, t, rec, runStatus, end);
}

/** Resolves in the SDK's next pass over blocked conditions (a new call into the VM); no command, no event. */
function nextPass(): Promise<void> {
  let asked = false;
  return condition(() => {
    if (asked) return true;
    asked = true;
    return false;
  });
}

/** A step starting (not one going on after a continue-as-new): the thread and status say so. */
function announceStep(state: RolloutState, step: ExecStepPlan, targets: TargetPlan[], pace: Pacer): void {
  const window = pace.window();
  const ramp = pace.ramped && !pace.overridden() ? step.ramp : undefined;
  state.notify({
    type: 'stepStarted',
    step: step.name,
    targets: targets.slice(0, 50).map((t) => t.name),
    ...(step.type === 'rolling' ? { window } : {}),
    ...(ramp
      ? {
          ramp: {
            windows: describeRamp(ramp),
            stages: pace.stageSizes(),
            ...(ramp.between?.bakeSec !== undefined ? { bakeSec: ramp.between.bakeSec } : {}),
            ...(ramp.between?.manual ? { manual: true } : {}),
          },
        }
      : {}),
  });
  const override = state.steering.windowOverride;
  if (state.steerable && pace.overridden() && override?.by === 'MaxParallelism') {
    // Never silent: the thread and status say which window MaxParallelism replaced.
    state.steering.record({
      kind: 'maxParallelism',
      by: 'MaxParallelism',
      at: now(),
      window: window,
      step: step.name,
      configured: pace.configuredText(),
    });
  }
}

/** Between two ramp stages: the bake time, then the manual Proceed, as the ramp asks; an Abort stops the rollout. */
async function betweenStages(state: RolloutState, si: number, pace: Pacer, runStatus: RunStatus): Promise<void> {
  const { step } = pace;
  const between = step.ramp?.between;
  const next = pace.stage + 2;
  const setWaiting = (waiting: NonNullable<(typeof state.stepRamps)[number]>['waiting']) => {
    const r = state.stepRamps[si];
    if (!r) return;
    const { waiting: _old, ...rest } = r;
    state.stepRamps[si] = waiting ? { ...rest, waiting } : rest;
  };
  if (between?.bakeSec !== undefined) {
    const until = new Date(nowMs() + between.bakeSec * 1000).toISOString();
    setWaiting({ kind: 'bake', until });
    state.notify({
      type: 'rampStage',
      step: step.name,
      stage: next,
      stages: pace.stageCount,
      window: pace.window(),
      phase: 'baking',
      bakeSec: between.bakeSec,
      until,
    });
    // A durable timer; a stop or a window override ends the bake early.
    await condition(() => !state.mayStart(runStatus) || pace.overridden(), between.bakeSec * 1000);
    setWaiting(undefined);
  }
  if (between?.manual && state.mayStart(runStatus) && !pace.overridden()) {
    const d = state.openDecision({
      kind: 'manual',
      step: step.name,
      instructions: `Stage ${next - 1} of ${pace.stageCount} of ${step.name} finished. Proceed to start stage ${next} (${pace.nextStageSize()} targets), or Abort the rollout.`,
      createdAt: now(),
      choices: [...MANUAL_CHOICES],
    });
    setWaiting({ kind: 'manual', decisionId: d.id });
    state.notify({ type: 'asked', decisionId: d.id });
    await condition(() => d.answer !== undefined);
    setWaiting(undefined);
    if (d.answer?.choice === 'abort')
      state.stop('aborted', `${step.name}: aborted by ${d.answer.by} before stage ${next}`);
  }
}

/** A shared target (t.shared) runs under its lock: taken before its first child step, released after its last. */
export async function runTarget(
  state: RolloutState,
  si: number,
  step: ExecStepPlan,
  t: TargetPlan,
  rec: TargetStepDetail,
  runStatus: RunStatus,
): Promise<void> {
  const key = t.shared;
  if (!key || !patched(PATCH_SHARED_TARGETS)) return runTargetChains(state, si, step, t, rec, runStatus);
  if (!(await acquireTarget(state, step.name, t, rec, key))) {
    rec.state = 'skipped';
    return;
  }
  try {
    await runTargetChains(state, si, step, t, rec, runStatus);
  } finally {
    await releaseTarget(state, key);
  }
}

/** One target's chain, run again from the failed child step on Retry, on from the next on Ignore or Fail. */
async function runTargetChains(
  state: RolloutState,
  si: number,
  step: ExecStepPlan,
  t: TargetPlan,
  rec: TargetStepDetail,
  runStatus: RunStatus,
  end?: TargetEnd,
): Promise<void> {
  // try/catch/finally adds no promise and no tick: without `end` the chain runs (and rejects) exactly as before.
  try {
    const { plan, rolloutId } = state;
    rec.state = 'running';
    rec.startedAt = now();
    state.noteStarted(t.name);
    let startIndex = 0;
    let chainStatus: RunStatus = runStatus;
    let attempt = 1;
    let run = 0;
    // Set by Retry on an "outcome unknown" (or nothing-ran) card: the chain re-attaches to that run first.
    let reattachRunId: string | undefined;
    for (;;) {
      const input: ChainInput = {
        rolloutId,
        stepName: step.name,
        target: t,
        childSteps: step.childSteps,
        startIndex,
        status: chainStatus,
        attempt,
        guided: !state.stopKind && !state.overBudget(),
        release: plan.release,
        deployable: plan.deployable,
        requestedBy: plan.requestedBy,
        variables: plan.variables,
        outputs: state.outputsByTarget.get(t.name) ?? {},
        ...(reattachRunId ? { reattachRunId } : {}),
        ...(state.inlineChain && state.recordedRuns.has(t.name)
          ? { cleanupRunIds: state.recordedRuns.get(t.name) as string[] }
          : {}),
      };
      ++run;
      let res: ChainResult;
      if (state.leanStarts) {
        // The activity awaited here, not through runChainActivity: one promise less (see PATCH_LEAN_STARTS).
        try {
          res = await chainActivity(input)(input);
        } catch (err) {
          res = failedChain(input, err);
        }
      } else {
        res = state.inlineChain
          ? await runChainActivity(input)
          : await executeChild(targetChainWorkflow, {
              args: [input],
              workflowId: `${rolloutId}/${si}-${step.name}/${t.name}/${run}`,
            });
      }
      reattachRunId = undefined;
      if (state.inlineChain) state.recordedRuns.set(t.name, recordedRuns(res));
      state.outputsByTarget.set(t.name, res.outputs);
      for (const c of res.children) {
        const { index, ...child } = c;
        rec.children[index] = child;
      }
      const failedChild = res.children.find((c) => c.state === 'failed');
      if (failedChild) {
        state.failedTargets.add(t.name);
        state.firstFailure ??= {
          step: step.name,
          target: t.name,
          childStep: failedChild.name,
          exitCode: failedChild.exitCode,
          ...(failedChild.error ? { error: failedChild.error } : {}),
        };
      }
      if (res.pausedAt === undefined) {
        rec.state = res.status === 'success' ? 'succeeded' : 'failed';
        // Nothing ran on this target (its failures were never-run ones, ignored): skipped, not deployed.
        if (state.honest && rec.state === 'succeeded' && nothingRan(rec)) {
          rec.state = 'skipped';
          rec.notRun = true;
        }
        rec.endedAt = now();
        if (res.status === 'failure') state.stop('failed', `${step.name} failed on ${t.name}`);
        return;
      }

      const failed = rec.children[res.pausedAt] as ChildResult;
      let choice: DecisionChoice;
      if (state.stopKind || state.overBudget()) {
        // Past the failure budget (or already stopping) nobody is asked: it is a Fail.
        if (state.overBudget()) {
          state.stop(
            'failed',
            `failure budget exceeded (${state.failedTargets.size} targets failed, budget ${state.budgetLimit})`,
          );
        }
        choice = 'fail';
      } else {
        const d = state.openDecision({
          kind: 'failure',
          step: step.name,
          target: t.name,
          childStep: failed.name,
          exitCode: failed.exitCode ?? null,
          ...(failed.tail !== undefined || failed.error !== undefined
            ? { tail: keepTail([failed.error, failed.tail].filter(Boolean).join('\n'), TAIL_LIMITS.history) }
            : {}),
          createdAt: now(),
          choices: [...FAILURE_CHOICES],
          ...(state.honest && failed.notRun ? { notRun: true } : {}),
          ...(failed.outcome ? { outcome: failed.outcome } : {}),
        });
        state.notify({ type: 'asked', decisionId: d.id });
        rec.state = 'waiting';
        await condition(() => d.answer !== undefined);
        choice = d.answer?.choice ?? 'fail';
        rec.state = 'running';
      }
      switch (choice) {
        case 'retry':
          startIndex = res.pausedAt;
          attempt++;
          state.failedTargets.delete(t.name);
          // Retry when the outcome is unknown (or nothing ran) re-attaches to the original run first: it may have
          // finished, and then its outcome counts (run-once: a script is started at most once per attempt).
          if (
            (failed.outcome === 'unknown' || failed.outcome === 'not-started') &&
            failed.runId &&
            patched('rollout-retry-reattach')
          )
            reattachRunId = failed.runId;
          break;
        case 'ignore':
          // A script that never started is not "ignored as if it succeeded": it is recorded as skipped (not run).
          failed.state = state.honest && failed.notRun ? 'skipped' : 'ignored';
          startIndex = res.pausedAt + 1;
          break;
        case 'exclude':
          state.excluded.add(t.name);
          rec.state = 'excluded';
          rec.endedAt = now();
          return;
        default:
          // Fail: the rollout stops; this target still runs its remaining always / on-failure child steps.
          state.stop('failed', state.stopReason ?? `${failed.name} failed on ${t.name}`);
          startIndex = res.pausedAt + 1;
          chainStatus = 'failure';
      }
    }
  } catch (e) {
    if (!end) throw e;
    end.failed(e);
  } finally {
    end?.ended();
  }
}

/**
 * Rollouts started since this patch run a target's chain as ONE activity (`runChain`: every child step over the
 * target's connection, no workflow in between) instead of a child workflow whose child steps are an activity each.
 * Per target that is 3 history events and one workflow task instead of a child workflow's start, run and close and
 * an activity per child step; run-once still holds per child step (see runChain in activities/scripts.ts). Rollouts
 * started before it replay with their child workflows.
 */
export const PATCH_INLINE_CHAIN = 'inline-chain';

async function runChainActivity(input: ChainInput): Promise<ChainResult> {
  try {
    return await chainActivity(input)(input);
  } catch (err) {
    return failedChain(input, err);
  }
}

/** The chain activity for `input`, with its timeouts and retries. */
function chainActivity(input: ChainInput): Activities['runChain'] {
  // Long enough for every child step still to run, each with the run-once slack (the lost-contact bound).
  const seconds = input.childSteps
    .slice(input.startIndex)
    .reduce((sum, c) => sum + c.timeoutSec + RUN_ONCE_ATTEMPT_SLACK_SEC, 0);
  const { runChain } = proxyActivities<Activities>({
    startToCloseTimeout: `${Math.max(seconds, RUN_ONCE_ATTEMPT_SLACK_SEC)}s`,
    heartbeatTimeout: '30s',
    // No attempt limit, as for a single child step: a retry walks the chain again and re-attaches to every run
    // already on the target (never starts one twice); the activity itself reports unreachable targets.
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  return runChain;
}

/**
 * Only a failure for good reaches here (e.g. no transport for the target on this worker); each child step's own
 * failures are in the result. The chain stops at its first child step that would have run, as a failure.
 */
function failedChain(input: ChainInput, err: unknown): ChainResult {
  const first = input.childSteps[input.startIndex];
  const message = describeChainFailure(err);
  return {
    children: first
      ? [{ index: input.startIndex, name: first.name, state: 'failed', error: message, attempt: input.attempt }]
      : [],
    status: 'failure',
    outputs: input.outputs,
    ...(first && input.guided && input.status === 'success' ? { pausedAt: input.startIndex } : {}),
  };
}

function describeChainFailure(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return e.type ? `${e.type}: ${e.message}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/** No child step of this target's chain ran: every one is skipped, at least one because it could not run. */
function nothingRan(rec: TargetStepDetail): boolean {
  const children = rec.children.filter(Boolean);
  return children.some((c) => c.notRun) && children.every((c) => c.state === 'skipped');
}

async function runManualStep(state: RolloutState, step: ManualStepPlan, runStatus: RunStatus): Promise<void> {
  const { plan } = state;
  // As before the domain module: a manual step's scope has no machine, but the first target's variables.
  if (!ifHolds(step.if, { ...state.scopeFor(plan.targets[0] as TargetPlan, runStatus), machine: undefined })) {
    return;
  }
  const d = state.openDecision({
    kind: 'manual',
    step: step.name,
    instructions: substituteText(step.instructions, {
      release: plan.release,
      deployable: plan.deployable,
      requestedBy: plan.requestedBy,
      stepName: step.name,
      machineName: '',
      variables: plan.variables,
      outputs: {},
    }),
    createdAt: now(),
    choices: [...MANUAL_CHOICES],
    ...(step.fourEyes ? { notBy: plan.requestedBy } : {}),
  });
  state.notify({ type: 'stepStarted', step: step.name, targets: [] });
  state.notify({ type: 'asked', decisionId: d.id });
  const answered =
    step.timeoutSec !== undefined
      ? await condition(() => d.answer !== undefined, step.timeoutSec * 1000)
      : (await condition(() => d.answer !== undefined), true);
  if (!answered && !d.answer) state.recordAnswer(d, { choice: step.onTimeout, by: 'timeout', at: now() });
  if (d.answer?.choice === 'abort') state.stop('aborted', `${step.name}: aborted by ${d.answer.by}`);
}
