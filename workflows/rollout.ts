// The rollout workflow: steps in sequence, each step's targets in a sliding window, failures handed to humans
// as decisions, one stopping rule for every way a rollout stops. Deterministic orchestration only.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  patched, // [run-once]
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SlackActivities, ThreadEvent } from '../activities/slack/notifier';
import { conditionScope, ifHolds, runConditionHolds, type RunStatus } from '../domain/conditions';
import { FAILURE_CHOICES, MANUAL_CHOICES, type DecisionChoice } from '../domain/decisions';
import { REFUSAL } from '../domain/failures';
import { keepTail, TAIL_LIMITS } from '../domain/text';
import { windowSize } from '../domain/window';
import { substituteText } from '../domain/variables';
import {
  cancelUpdate,
  decideUpdate,
  decisionsQuery,
  DETAIL_PAGE_LIMIT,
  summaryQuery,
  SUMMARY_LIST_LIMIT,
  targetsQuery,
  type CarriedRolloutState,
  type ChildResult,
  type Decision,
  type DecideInput,
  type RolloutInput,
  type RolloutResult,
  type RolloutStatus,
  type RolloutSummary,
  type StepSummary,
  type TargetDetail,
  type TargetState,
  type TargetStepDetail,
} from './messages';
import { targetChainWorkflow, type ChainInput } from './targetChain';
import type { ExecStepPlan, ManualStepPlan, RolloutPlan, TargetPlan } from '../domain/plan';

type StopKind = 'failed' | 'cancelled' | 'aborted';

/** Continue as new at a step boundary past this many history events (Temporal's hard limit is 51,200). */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/** Inside the workflow sandbox Date is Temporal's deterministic workflow clock, not the wall clock. */
const now = (): string => new Date().toISOString();


const EMPTY_COUNTS = (): Record<TargetState, number> => ({
  pending: 0,
  running: 0,
  waiting: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  excluded: 0,
});

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  const { plan, carried } = input;
  const continueAfter = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const rolloutId = workflowInfo().workflowId;
  const startedAt = carried?.startedAt ?? now();
  let endedAt: string | undefined;
  let status: RolloutStatus = 'running';
  let stopKind: StopKind | undefined = carried?.stopKind;
  let stopReason: string | undefined = carried?.stopReason;
  let firstFailure: RolloutSummary['failure'] = carried?.firstFailure;
  let currentStep: string | undefined;

  // records[stepIndex].get(target) — one per target the step reaches.
  const records: Array<Map<string, TargetStepDetail>> = plan.steps.map((_, i) => new Map(carried?.records[i] ?? []));
  const stepStates: Array<StepSummary['state']> = plan.steps.map((_, i) => carried?.stepStates[i] ?? 'pending');
  const stepWindows: Array<number | undefined> = plan.steps.map((_, i) => carried?.stepWindows[i] ?? undefined);
  const inFlight: Array<Set<string>> = plan.steps.map(() => new Set());
  const outputsByTarget = new Map<string, Record<string, Record<string, string>>>(carried?.outputsByTarget ?? []);
  const excluded = new Set<string>(carried?.excluded ?? []);
  const failedTargets = new Set<string>(carried?.failedTargets ?? []);
  const decisions = new Map<string, Decision>((carried?.decisions ?? []).map((d) => [d.id, d]));
  const answeredOrder: string[] = (carried?.decisions ?? []).map((d) => d.id);
  let decisionSeq = carried?.decisionSeq ?? 0;
  let approvers = new Set<string>(carried?.approvers ?? []);

  const pendingDecisions = () => [...decisions.values()].filter((d) => !d.answer);

  const stop = (kind: StopKind, reason: string) => {
    if (stopKind) return;
    stopKind = kind;
    stopReason = reason;
    // Nobody is left to wait for: pending failures are answered Fail, pending interventions Abort.
    for (const d of pendingDecisions()) {
      d.answer = { choice: d.kind === 'failure' ? 'fail' : 'abort', by: 'rollout', at: now() };
      answeredOrder.push(d.id);
      notify({ type: 'answered', decisionId: d.id });
    }
  };

  // ---- the Slack thread: events posted in order by one coroutine, never in the rollout's way ----------------
  type Note = Exclude<ThreadEvent, { type: 'decisionAnswered' | 'decision' }> | { type: 'answered' | 'asked'; decisionId: string };
  const notes: Note[] = [];
  let notesDone = false;
  let notesPosted = 0;
  function notify(n: Note): void {
    if (plan.slack) notes.push(n);
  }
  async function pumpNotes(): Promise<void> {
    const slack = plan.slack;
    if (!slack) return;
    const { slackThreadEvent } = proxyActivities<SlackActivities>({
      taskQueue: slack.taskQueue,
      startToCloseTimeout: '30 seconds',
      // While the bot or Slack is down, keep trying for a day: the card is posted when they are back.
      scheduleToCloseTimeout: '1 day',
      retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', backoffCoefficient: 2 },
    });
    const root = { channel: slack.channel, ts: slack.ts };
    for (let i = 0; ; i++) {
      await condition(() => i < notes.length || notesDone);
      const n = notes[i];
      if (!n) return;
      let event: ThreadEvent;
      const d = 'decisionId' in n ? decisions.get(n.decisionId) : undefined;
      if (n.type === 'asked' || n.type === 'answered') {
        if (!d) {
        notesPosted = i + 1;
        continue;
      }
        event =
          n.type === 'asked'
            ? { type: 'decision', rolloutId, decision: { ...d } }
            : { type: 'decisionAnswered', rolloutId, decision: { ...d }, cardTs: d.cardTs ?? '' };
      } else {
        event = n as ThreadEvent;
      }
      try {
        const res = await slackThreadEvent({ root, event });
        if (n.type === 'asked' && d && res.ts) d.cardTs = res.ts;
      } catch {
        // Gave up after a day of retries; the rollout's state (and `status`) still has everything.
      }
      notesPosted = i + 1;
    }
  }
  const notesPumped = pumpNotes();

  const budgetLimit = plan.failureBudget ? windowSize(plan.failureBudget, plan.targets.length) : undefined;
  const overBudget = () => budgetLimit !== undefined && failedTargets.size > budgetLimit;

  const isAllowed = (by: string, list: Set<string>) => list.size === 0 || list.has(by);

  // ---- messages -------------------------------------------------------------------------------------------
  setHandler(summaryQuery, () => summary());
  setHandler(decisionsQuery, () => [...decisions.values()].filter((d) => !d.answer).slice(0, 100));
  setHandler(targetsQuery, ({ target, offset = 0, limit = DETAIL_PAGE_LIMIT }) => {
    if (target !== undefined) {
      const t = plan.targets.find((x) => x.name === target);
      return { total: t ? 1 : 0, offset: 0, targets: t ? [targetDetail(t, TAIL_LIMITS.targetDetail)] : [] };
    }
    const lim = Math.max(1, Math.min(limit, DETAIL_PAGE_LIMIT));
    const page = plan.targets.slice(Math.max(0, offset), Math.max(0, offset) + lim);
    return { total: plan.targets.length, offset, targets: page.map((t) => targetDetail(t, TAIL_LIMITS.targetPage)) };
  });

  // Why a decision may be "not yet known": a worker that rebuilds this workflow from history (after a crash or a
  // cache eviction) runs a new update's validator BEFORE it replays the event that created the decision. An id
  // that could still appear (a number just past the last one issued) is therefore judged in the handler, after
  // the rest of the activation has run; every other unknown id is refused at once.
  const couldStillAppear = (decisionId: string): boolean => {
    const m = /^d(\d+)$/.exec(decisionId);
    const n = m ? Number(m[1]) : 0;
    return n > decisionSeq && n <= decisionSeq + plan.targets.length + 1;
  };
  const judge = ({ decisionId, choice, by }: DecideInput): Decision => {
    const d = decisions.get(decisionId);
    if (!d) throw new Error(`no decision "${decisionId}" in rollout ${rolloutId}`);
    if (d.answer) {
      throw new Error(`decision ${decisionId} was already answered: ${d.answer.choice} by ${d.answer.by} at ${d.answer.at}`);
    }
    if (!d.choices.includes(choice)) throw new Error(`"${choice}" is not an answer to ${decisionId} (${d.choices.join(', ')})`);
    const allowed = d.kind === 'manual' ? manualApprovers(d.step) : approvers;
    if (!isAllowed(by, allowed)) throw new Error(`${by} is not allowed to answer ${decisionId}`);
    return d;
  };

  setHandler(
    decideUpdate,
    async (input) => {
      if (!decisions.has(input.decisionId)) {
        // Let the rest of this activation (the replayed event that creates the decision) run first.
        await condition(() => decisions.has(input.decisionId), '1 second');
      }
      let d: Decision;
      try {
        d = judge(input);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, REFUSAL.decisionRefused);
      }
      const { choice, by } = input;
      d.answer = { choice, by, at: now() };
      answeredOrder.push(d.id);
      notify({ type: 'answered', decisionId: d.id });
      // Stopping takes effect in this very activation, so no target can slip in before the stop is seen.
      if (choice === 'fail') stop('failed', `${d.childStep ?? d.step} failed on ${d.target ?? '?'}: Fail chosen by ${by}`);
      if (choice === 'abort') stop('aborted', `${d.step}: aborted by ${by}`);
      return { decisionId: d.id, choice, by, at: d.answer.at };
    },
    {
      validator: (input) => {
        if (!decisions.has(input.decisionId) && couldStillAppear(input.decisionId)) return;
        judge(input);
      },
    },
  );

  setHandler(
    cancelUpdate,
    ({ by, reason }) => {
      stop('cancelled', `cancelled by ${by}${reason ? `: ${reason}` : ''}`);
      return { status, message: stopReason ?? '' };
    },
    {
      validator: ({ by }) => {
        if (status !== 'running') throw new Error(`rollout ${rolloutId} already ended (${status})`);
        if (stopKind) throw new Error(`rollout ${rolloutId} is already stopping: ${stopReason}`);
        if (by !== plan.requestedBy && !isAllowed(by, approvers)) throw new Error(`${by} is not allowed to cancel ${rolloutId}`);
      },
    },
  );

  // Temporal's own cancellation (e.g. `temporal workflow cancel`) follows the same stopping rule.
  CancellationScope.current().cancelRequested.catch((err: unknown) => {
    if (isCancellation(err)) stop('cancelled', 'cancelled through Temporal');
  });

  const manualApproverSets = new Map<string, Set<string>>(
    (carried?.manualApprovers ?? []).map(([step, list]) => [step, new Set(list)]),
  );
  const manualApprovers = (step: string) => manualApproverSets.get(step) ?? approvers;

  // ---- the run ----------------------------------------------------------------------------------------------
  await CancellationScope.nonCancellable(async () => {
    // From Slack, groups are expanded by the bot's worker (it holds the Slack directory); otherwise locally.
    const { expandApprovers } = proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      ...(plan.slack ? { taskQueue: plan.slack.taskQueue, scheduleToCloseTimeout: '1 hour' } : {}),
    });
    if (!carried) {
      approvers = new Set(await expandApprovers({ approvers: plan.approvers, groups: plan.groups }));
      for (const step of plan.steps) {
        if (step.type === 'manual' && step.approvers.length > 0) {
          manualApproverSets.set(step.name, new Set(await expandApprovers({ approvers: step.approvers, groups: plan.groups })));
        }
      }
    }

    const firstStep = carried?.nextStep ?? 0;
    for (let si = firstStep; si < plan.steps.length; si++) {
      const step = plan.steps[si] as (typeof plan.steps)[number];
      if (si > firstStep && workflowInfo().historyLength > continueAfter) await continueWithNextStep(si);
      const runStatus = stopKind === 'failed' ? 'failure' : 'success';
      if (stopKind === 'cancelled' || stopKind === 'aborted' || !runConditionHolds(step.runCondition, runStatus)) {
        stepStates[si] = 'skipped';
        continue;
      }
      currentStep = step.name;
      stepStates[si] = 'running';
      if (step.type === 'manual') await runManualStep(step, runStatus);
      else await runExecStep(si, step, runStatus);
      stepStates[si] = 'done';
    }
    currentStep = undefined;
  });

  status = stopKind ?? 'succeeded';
  // eslint-disable-next-line prefer-const -- declared at the top because the query handlers read it
  endedAt = now();
  const final = summary();
  notify({ type: 'ended', summary: final });
  notesDone = true;
  await notesPumped;
  return { status, summary: final };

  // ---- helpers (function declarations: hoisted, share the state above) ---------------------------------------
  /** Continues as new before step `si`, once the thread is posted and no update handler is mid-way. */
  async function continueWithNextStep(si: number): Promise<never> {
    await condition(() => notesPosted >= notes.length && allHandlersFinished());
    const clipDecision = (d: Decision): Decision => ({ ...d, ...(d.tail !== undefined ? { tail: keepTail(d.tail, TAIL_LIMITS.decisionSummary) } : {}) });
    const next: CarriedRolloutState = {
      nextStep: si,
      runs: (carried?.runs ?? 0) + 1,
      startedAt,
      ...(stopKind ? { stopKind } : {}),
      ...(stopReason ? { stopReason } : {}),
      ...(firstFailure ? { firstFailure } : {}),
      decisionSeq,
      decisions: answeredOrder
        .slice(-SUMMARY_LIST_LIMIT)
        .map((id) => decisions.get(id))
        .filter((d): d is Decision => d !== undefined)
        .map(clipDecision),
      stepStates,
      stepWindows: stepWindows.map((w) => w ?? null),
      records: records.map((r) =>
        [...r.entries()].map(([name, rec]): [string, TargetStepDetail] => [
          name,
          { ...rec, children: rec.children.map(({ tail: _tail, ...c }) => c) },
        ]),
      ),
      outputsByTarget: [...outputsByTarget.entries()],
      excluded: [...excluded],
      failedTargets: [...failedTargets],
      approvers: [...approvers],
      manualApprovers: [...manualApproverSets.entries()].map(([k, v]) => [k, [...v]]),
    };
    return continueAsNew<typeof rolloutWorkflow>({ plan, continueAsNewAfterEvents: continueAfter, carried: next });
  }

  function mayStart(runStatus: RunStatus): boolean {
    if (!stopKind) return true;
    // Steps that run because of a failure (rollback, notify) keep going unless someone cancels or aborts.
    return runStatus === 'failure' && stopKind === 'failed';
  }

  async function runExecStep(si: number, step: ExecStepPlan, runStatus: RunStatus): Promise<void> {
    const recs = records[si] as Map<string, TargetStepDetail>;
    const targets = plan.targets.filter(
      (t) => !excluded.has(t.name) && (step.tags.length === 0 || step.tags.some((tag) => t.tags.includes(tag))),
    );
    for (const t of targets) recs.set(t.name, { step: step.name, state: 'pending', children: [] });
    const window = windowSize(step.window, targets.length);
    stepWindows[si] = window;
    notify({
      type: 'stepStarted',
      step: step.name,
      targets: targets.slice(0, 50).map((t) => t.name),
      ...(step.type === 'rolling' ? { window } : {}),
    });
    const flying = inFlight[si] as Set<string>;
    const running: Promise<void>[] = [];
    for (const t of targets) {
      // Sliding window: start the next target as soon as any in-flight one finishes; never while a decision waits.
      await condition(() => !mayStart(runStatus) || (flying.size < window && pendingDecisions().length === 0));
      if (!mayStart(runStatus)) break;
      const rec = recs.get(t.name) as TargetStepDetail;
      if (excluded.has(t.name)) {
        rec.state = 'excluded';
        continue;
      }
      if (!ifHolds(step.if, scopeFor(t, runStatus))) {
        rec.state = 'skipped';
        continue;
      }
      flying.add(t.name);
      running.push(runTarget(si, step, t, rec, runStatus).finally(() => flying.delete(t.name)));
    }
    await Promise.all(running);
    for (const rec of recs.values()) if (rec.state === 'pending') rec.state = 'skipped';
  }

  function scopeFor(t: TargetPlan, s: RunStatus) {
    return conditionScope(plan, t, s, outputsByTarget.get(t.name) ?? {});
  }

  async function runTarget(
    si: number,
    step: ExecStepPlan,
    t: TargetPlan,
    rec: TargetStepDetail,
    runStatus: RunStatus,
  ): Promise<void> {
    rec.state = 'running';
    rec.startedAt = now();
    let startIndex = 0;
    let chainStatus: RunStatus = runStatus;
    let attempt = 1;
    let run = 0;
    let reattachRunId: string | undefined; // [run-once] set by Retry on an "outcome unknown" card
    for (;;) {
      const input: ChainInput = {
        rolloutId,
        stepName: step.name,
        target: t,
        childSteps: step.childSteps,
        startIndex,
        status: chainStatus,
        attempt,
        guided: !stopKind && !overBudget(),
        release: plan.release,
        deployable: plan.deployable,
        requestedBy: plan.requestedBy,
        variables: plan.variables,
        outputs: outputsByTarget.get(t.name) ?? {},
        ...(reattachRunId ? { reattachRunId } : {}), // [run-once]
      };
      const res = await executeChild(targetChainWorkflow, {
        args: [input],
        workflowId: `${rolloutId}/${si}-${step.name}/${t.name}/${++run}`,
      });
      reattachRunId = undefined; // [run-once]
      outputsByTarget.set(t.name, res.outputs);
      for (const c of res.children) {
        const { index, ...child } = c;
        rec.children[index] = child;
      }
      const failedChild = res.children.find((c) => c.state === 'failed');
      if (failedChild) {
        failedTargets.add(t.name);
        firstFailure ??= {
          step: step.name,
          target: t.name,
          childStep: failedChild.name,
          exitCode: failedChild.exitCode,
          ...(failedChild.error ? { error: failedChild.error } : {}),
        };
      }
      if (res.pausedAt === undefined) {
        rec.state = res.status === 'success' ? 'succeeded' : 'failed';
        rec.endedAt = now();
        if (res.status === 'failure') stop('failed', `${step.name} failed on ${t.name}`);
        return;
      }

      const failed = rec.children[res.pausedAt] as ChildResult;
      let choice: DecisionChoice;
      if (stopKind || overBudget()) {
        // Past the failure budget (or already stopping) nobody is asked: it is a Fail.
        if (overBudget()) stop('failed', `failure budget exceeded (${failedTargets.size} targets failed, budget ${budgetLimit})`);
        choice = 'fail';
      } else {
        const d: Decision = {
          id: `d${++decisionSeq}`,
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
        };
        decisions.set(d.id, d);
        notify({ type: 'asked', decisionId: d.id });
        rec.state = 'waiting';
        await condition(() => d.answer !== undefined);
        choice = d.answer?.choice ?? 'fail';
        rec.state = 'running';
      }
      switch (choice) {
        case 'retry':
          startIndex = res.pausedAt;
          attempt++;
          failedTargets.delete(t.name);
          // [run-once] Retry when the outcome is unknown (or nothing ran) re-attaches to the original run first.
          if ((failed.outcome === 'unknown' || failed.outcome === 'not-started') && failed.runId && patched('rollout-retry-reattach')) reattachRunId = failed.runId;
          break;
        case 'ignore':
          failed.state = 'ignored';
          startIndex = res.pausedAt + 1;
          break;
        case 'exclude':
          excluded.add(t.name);
          rec.state = 'excluded';
          rec.endedAt = now();
          return;
        default:
          // Fail: the rollout stops; this target still runs its remaining always / on-failure child steps.
          stop('failed', stopReason ?? `${failed.name} failed on ${t.name}`);
          startIndex = res.pausedAt + 1;
          chainStatus = 'failure';
      }
    }
  }

  async function runManualStep(step: ManualStepPlan, runStatus: RunStatus): Promise<void> {
    // As before the domain module: a manual step's scope has no machine, but the first target's variables.
    if (!ifHolds(step.if, { ...scopeFor(plan.targets[0] as TargetPlan, runStatus), machine: undefined })) {
      return;
    }
    const d: Decision = {
      id: `d${++decisionSeq}`,
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
    };
    decisions.set(d.id, d);
    notify({ type: 'stepStarted', step: step.name, targets: [] });
    notify({ type: 'asked', decisionId: d.id });
    const answered =
      step.timeoutSec !== undefined
        ? await condition(() => d.answer !== undefined, step.timeoutSec * 1000)
        : (await condition(() => d.answer !== undefined), true);
    if (!answered && !d.answer) {
      d.answer = { choice: step.onTimeout, by: 'timeout', at: now() };
      answeredOrder.push(d.id);
      notify({ type: 'answered', decisionId: d.id });
    }
    if (d.answer?.choice === 'abort') stop('aborted', `${step.name}: aborted by ${d.answer.by}`);
  }

  function targetState(t: TargetPlan): TargetState {
    if (excluded.has(t.name)) return 'excluded';
    const states = records.map((r) => r.get(t.name)?.state).filter((s): s is TargetState => s !== undefined);
    for (const s of ['waiting', 'running', 'failed'] as const) if (states.includes(s)) return s;
    if (states.includes('pending')) return 'pending';
    if (states.includes('succeeded')) return 'succeeded';
    return states.length > 0 ? 'skipped' : 'pending';
  }

  function targetDetail(t: TargetPlan, tailLimit: number): TargetDetail {
    const steps: TargetStepDetail[] = [];
    for (const r of records) {
      const rec = r.get(t.name);
      if (!rec) continue;
      steps.push({
        ...rec,
        children: rec.children.filter(Boolean).map((c) => ({ ...c, ...(c.tail !== undefined ? { tail: keepTail(c.tail, tailLimit) } : {}) })),
      });
    }
    return { name: t.name, state: targetState(t), steps, outputs: outputsByTarget.get(t.name) ?? {} };
  }

  function summary(): RolloutSummary {
    const steps: StepSummary[] = plan.steps.map((step, si) => {
      const counts = EMPTY_COUNTS();
      for (const rec of (records[si] as Map<string, TargetStepDetail>).values()) counts[rec.state]++;
      const flying = [...(inFlight[si] as Set<string>)];
      const w = stepWindows[si];
      return {
        name: step.name,
        type: step.type,
        state: stepStates[si] ?? 'pending',
        counts,
        inFlight: flying.slice(0, SUMMARY_LIST_LIMIT),
        inFlightCount: flying.length,
        ...(w !== undefined ? { window: w } : {}),
      };
    });
    const slim = (d: Decision): Decision => ({ ...d, ...(d.tail !== undefined ? { tail: keepTail(d.tail, TAIL_LIMITS.decisionSummary) } : {}) });
    return {
      rolloutId,
      deployable: plan.deployable,
      release: plan.release,
      requestedBy: plan.requestedBy,
      status,
      ...(stopReason ? { stopReason } : {}),
      startedAt,
      ...(endedAt ? { endedAt } : {}),
      totalTargets: plan.targets.length,
      ...(currentStep ? { currentStep } : {}),
      steps,
      pendingDecisions: pendingDecisions().slice(0, SUMMARY_LIST_LIMIT).map(slim),
      recentDecisions: answeredOrder
        .slice(-SUMMARY_LIST_LIMIT)
        .map((id) => decisions.get(id))
        .filter((d): d is Decision => d !== undefined)
        .map(slim),
      ...(firstFailure ? { failure: firstFailure } : {}),
      ...(plan.slack ? { slack: { channel: plan.slack.channel, ts: plan.slack.ts } } : {}),
    };
  }
}

export type { RolloutPlan };
