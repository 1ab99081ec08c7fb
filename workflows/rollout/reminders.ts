// Reminders and escalation of pending decisions: durable timers in the rollout workflow (not bot state), one
// coroutine per decision, started as it opens. After `afterSec` a decision still pending re-notifies its approvers
// in the thread; after `escalateAfterSec` it is escalated to a channel or a group. An answer ends both timers.
import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { RemindersPlan } from '../../domain/plan';
import type { Decision } from '../messages';
import type { ReminderNote } from './outbox';
import { now, type RolloutState } from './state';

/** Patch id: rollouts recorded before reminders replay without them (and without the group look-up). */
export const PATCH_REMINDERS = 'teamsops.reminders';

/** Starts the reminders of every decision opened from now on; a group to escalate to is expanded first. */
export async function startReminders(state: RolloutState, r: RemindersPlan): Promise<void> {
  const { plan } = state;
  let escalateTo: ReminderNote['escalateTo'];
  if (r.escalateTo && 'group' in r.escalateTo) {
    const { expandApprovers } = proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      ...(plan.slack ? { taskQueue: plan.slack.taskQueue, scheduleToCloseTimeout: '1 hour' } : {}),
    });
    const members = await expandApprovers({ approvers: [r.escalateTo.group], groups: plan.groups });
    escalateTo = { group: r.escalateTo.group, members };
  } else if (r.escalateTo) {
    escalateTo = { channel: r.escalateTo.channel };
  }
  state.onDecisionOpened = (d) => {
    void remind(state, r, d, escalateTo);
  };
}

/** The child steps of the decision's target that succeeded in its step (what ran before the failure). */
function doneBefore(state: RolloutState, d: Decision): string[] {
  if (d.kind !== 'failure' || d.target === undefined) return [];
  const si = state.plan.steps.findIndex((s) => s.name === d.step);
  const rec = state.records[si]?.get(d.target);
  return (rec?.children ?? []).filter((c) => c?.state === 'succeeded').map((c) => c.name);
}

async function remind(
  state: RolloutState,
  r: RemindersPlan,
  d: Decision,
  escalateTo: ReminderNote['escalateTo'],
): Promise<void> {
  const answered = () => d.answer !== undefined;
  const note = (phase: ReminderNote['phase']): ReminderNote => {
    const done = doneBefore(state, d);
    return {
      type: 'reminder',
      decisionId: d.id,
      phase,
      deployable: state.plan.deployable,
      release: state.plan.release,
      at: now(),
      ...(phase === 'escalation' && escalateTo ? { escalateTo } : {}),
      ...(done.length > 0 ? { doneBefore: done } : {}),
    };
  };
  if (await condition(answered, r.afterSec * 1000)) return;
  d.remindedAt = now();
  state.notify(note('reminder'));
  if (r.escalateAfterSec === undefined || !r.escalateTo) return;
  if (await condition(answered, (r.escalateAfterSec - r.afterSec) * 1000)) return;
  d.escalatedAt = now();
  d.escalatedTo = 'group' in r.escalateTo ? r.escalateTo.group : r.escalateTo.channel;
  state.notify(note('escalation'));
}
