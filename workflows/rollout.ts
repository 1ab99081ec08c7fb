// The rollout workflow: steps in sequence, each step's targets in a sliding window, failures handed to humans
// as decisions, one stopping rule for every way a rollout stops. Deterministic orchestration only.
// The state is in rollout/state.ts, the answer rules in rollout/judge.ts, the Slack thread in rollout/outbox.ts,
// the step running in rollout/steps.ts; this function wires the messages to them and runs the steps.
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { maxParallelismOf } from '../domain/maxParallelism';
import {
  cancelUpdate,
  decideUpdate,
  decisionsQuery,
  summaryQuery,
  targetsQuery,
  type RolloutInput,
  type RolloutResult,
} from './messages';
import { PATCHES } from '../domain/outcomes';
import { pauseUpdate, resumeUpdate, windowUpdate } from './steeringMessages';
import { lockGrantedSignal } from './targetLockMessages';
import { watchFreezes } from './rollout/freezeWatch';
import { judge, validateCancel, validateDecision } from './rollout/judge';
import { rolloutEnded, rolloutStarted } from './rollout/telemetry';
import { ThreadOutbox } from './rollout/outbox';
import { now, RolloutState } from './rollout/state';
import { PATCH_INLINE_CHAIN, PATCH_LEAN_STARTS, PATCH_START_BATCH, resolveApprovers, runStep } from './rollout/steps';
import { PATCH_REMINDERS, startReminders } from './rollout/reminders';
import { PATCH_RELEASE_CHECK, runReleaseCheck } from './rollout/releaseCheck';
import { unpackTargets } from './rollout/compact';
import { utf8Bytes } from './rollout/pages';
import { nextInput, stepContinuer } from './rollout/stepContinue';
import { validatePause, validateResume, validateWindow } from './rollout/steering';

/**
 * Ramped windows, MaxParallelism, pause / resume / window changes and deploy freezes. Rollouts started before
 * this patch replay exactly as they ran (no ramp, no override, no freeze timers) and refuse to be steered.
 */
export const PATCH_STEERING = 'ops-steer.steering';

/**
 * Continue as new past this many history events. Temporal's hard limit is 51,200 events (it suggests continuing as
 * new from 10,240). Rollouts started with `scale.step-continue` (rollout/stepContinue.ts) check it between steps
 * and inside exec steps, before starting each target, counting what the targets in flight will still add: a run
 * ends close to the threshold however many targets a step has, so 10,000 targets complete (as several runs).
 * Rollouts started before that check only between steps: a step adds about 7 events per target, so such a step
 * had to fit in what is left above the threshold (some 41,000 events, about 5,800 targets).
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

export async function rolloutWorkflow(packedInput: RolloutInput): Promise<RolloutResult> {
  const { carried } = packedInput;
  // A run continued with `scale.step-continue` carries the plan's targets packed (rollout/compact.ts).
  const input: RolloutInput = carried?.packed
    ? { ...packedInput, plan: { ...packedInput.plan, targets: unpackTargets(carried.packed.targets) } }
    : packedInput;
  const { plan } = input;
  const continueAfter = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const outbox = new ThreadOutbox(plan.slack, workflowInfo().workflowId);
  const state = new RolloutState(input, workflowInfo().workflowId, outbox);
  // Rollouts recorded before honest outcomes (domain/outcomes.ts) replay as they ran; every new run has them.
  state.honest = patched(PATCHES.honestOutcomes);
  state.steerable = patched(PATCH_STEERING);
  state.inlineChain = patched(PATCH_INLINE_CHAIN);
  state.startBatch = patched(PATCH_START_BATCH);
  state.leanStarts = state.inlineChain && patched(PATCH_LEAN_STARTS);
  // Continue-as-new inside a step, and the carried state packed (rollout/stepContinue.ts).
  state.stepContinue = stepContinuer(state, input, continueAfter, outbox);
  if (state.steerable && !carried) {
    const mp = maxParallelismOf(plan.variables);
    if (mp !== undefined && plan.steps.some((s) => s.type === 'rolling'))
      state.steering.windowOverride = { window: mp, by: 'MaxParallelism', at: state.startedAt };
    const o = plan.freezeOverride;
    if (o)
      state.steering.record({ kind: 'freezeOverridden', by: o.by, at: o.at, reason: o.reason, freezes: o.freezes });
  }
  const threadPosted = outbox.pump(state.decisions, (d) => state.answerersOf(d));
  if (!carried) rolloutStarted(plan);

  setHandler(summaryQuery, () => state.summary());
  setHandler(lockGrantedSignal, ({ key }) => {
    state.grantedLocks.add(key);
  });
  setHandler(decisionsQuery, () => state.pendingDecisions().slice(0, 100));
  setHandler(targetsQuery, (query) => state.targetsPage(query));
  setHandler(
    decideUpdate,
    async (answer) => {
      // A decision that "could still appear" (see couldStillAppear): let the rest of this activation (the
      // replayed event that creates it) run first, for up to a second.
      if (!state.decisions.has(answer.decisionId))
        await condition(() => state.decisions.has(answer.decisionId), '1 second');
      const d = judge(state, answer);
      const { choice, by } = answer;
      const at = now();
      state.recordAnswer(d, { choice, by, at });
      // Stopping takes effect in this very activation, so no target can slip in before the stop is seen.
      if (choice === 'fail')
        state.stop('failed', `${d.childStep ?? d.step} failed on ${d.target ?? '?'}: Fail chosen by ${by}`);
      if (choice === 'abort') state.stop('aborted', `${d.step}: aborted by ${by}`);
      return { decisionId: d.id, choice, by, at };
    },
    { validator: (answer) => validateDecision(state, answer) },
  );
  setHandler(
    cancelUpdate,
    ({ by, reason }) => {
      state.stop('cancelled', `cancelled by ${by}${reason ? `: ${reason}` : ''}`);
      return { status: state.status, message: state.stopReason ?? '' };
    },
    { validator: (cancel) => validateCancel(state, cancel) },
  );
  setHandler(pauseUpdate, (input) => state.steering.pause(input), {
    validator: (input) => validatePause(state, input),
  });
  setHandler(resumeUpdate, (input) => state.steering.resume(input), {
    validator: (input) => validateResume(state, input),
  });
  setHandler(
    windowUpdate,
    (input) => {
      const r = state.steering.setWindow(input);
      state.showWindows();
      return r;
    },
    { validator: (input) => validateWindow(state, input) },
  );
  // Temporal's own cancellation (e.g. `temporal workflow cancel`) follows the same stopping rule.
  CancellationScope.current().cancelRequested.catch((err: unknown) => {
    if (isCancellation(err)) state.stop('cancelled', 'cancelled through Temporal');
  });

  await CancellationScope.nonCancellable(async () => {
    if (!carried) await resolveApprovers(state);
    if (plan.reminders && patched(PATCH_REMINDERS)) await startReminders(state, plan.reminders);
    // The release check runs before anything else; when it fails no step runs (not even on-failure ones).
    const checked =
      carried ||
      !plan.releaseCheck ||
      !patched(PATCH_RELEASE_CHECK) ||
      (await runReleaseCheck(state, plan.releaseCheck));
    const freezesWatched = state.steerable ? watchFreezes(state) : Promise.resolve();
    const firstStep = checked ? (carried?.nextStep ?? 0) : plan.steps.length;
    for (let si = firstStep; si < plan.steps.length; si++) {
      if (si > firstStep && workflowInfo().historyLength > continueAfter) {
        // Once the thread is posted and no update handler is mid-way: the next run goes on at this step.
        await condition(() => outbox.idle && allHandlersFinished());
        await continueAsNew<typeof rolloutWorkflow>(
          state.stepContinue
            ? nextInput(state, input, continueAfter, si)
            : { plan, continueAsNewAfterEvents: continueAfter, carried: state.toCarried(si) },
        );
      }
      await runStep(state, si);
    }
    state.currentStep = undefined;
    state.done = true;
    await freezesWatched;
  });

  const summary = state.finish();
  rolloutEnded(plan, summary);
  outbox.notify({ type: 'ended', summary });
  outbox.close();
  await threadPosted;
  const result: RolloutResult = { status: state.status, summary, targets: state.startedTargetOutcomes() };
  // Target pages answered from the result (rollout/pages.ts), when they fit. No command changes: the result does.
  const pages = state.finishedPages(utf8Bytes(JSON.stringify(result)));
  return pages ? { ...result, pages } : result;
}
