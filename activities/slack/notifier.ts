// Slack activities: the thread's story (step starts, cards, outcomes, the end), posted from the rollout workflow.
// They run on the bot's own task queue, so a rollout started from Slack posts through the bot process; while
// the bot or Slack is down they wait and retry, and the card is posted when both are back.
import type { WebClient } from '@slack/web-api';
import type { Decision, RolloutSummary } from '../../workflows/messages';
import type { SteeringRecord } from '../../workflows/steeringMessages';
import {
  decisionOutcome,
  failureCard,
  escalationPost,
  manualCard,
  rampStage,
  reminderMessage,
  targetWaiting,
  type ReminderEvent,
  rolloutEnded,
  rootMessage,
  steered,
  stepStarted,
  type RampStageEvent,
  type SlackMessage,
  type StepRampInfo,
} from './blocks';

export interface SlackRoot {
  channel: string;
  ts: string;
}

export type ThreadEvent =
  | { type: 'stepStarted'; step: string; targets: string[]; window?: number; ramp?: StepRampInfo }
  | { type: 'steered'; record: SteeringRecord }
  | ({ type: 'rampStage' } & RampStageEvent)
  | {
      type: 'decision';
      rolloutId: string;
      decision: Decision;
      /** Who may answer, mentioned on the card (absent in events recorded before cards mentioned anyone). */
      answerers?: string[];
    }
  | { type: 'decisionAnswered'; rolloutId: string; decision: Decision; cardTs: string }
  | { type: 'ended'; summary: RolloutSummary }
  | ({ type: 'reminder' } & ReminderEvent)
  | { type: 'targetWait'; target: string; lock: string; since: string };

export interface SlackActivityDeps {
  web: WebClient;
  temporalUiUrl?: string;
  /** The namespace rollouts run in, for the UI link. */
  temporalNamespace?: string;
  /** Injected clock for the rendered times. */
  now?: () => Date;
  /**
   * How long a rate-limit pause on chat.update still holds (ms), as the bot's root updater learned it from a 429:
   * Slack limits a method per workspace, so this process's other chat.update calls wait it out too (the bot
   * passes its updater's pause).
   */
  chatUpdatePauseMs?: () => number;
}

/** Longest wait for a chat.update pause inside one activity attempt (its client still retries a 429 itself). */
export const MAX_CHAT_UPDATE_PAUSE_WAIT_MS = 15_000;

export function createSlackActivities(deps: SlackActivityDeps) {
  const now = deps.now ?? (() => new Date());
  const update = async (args: { channel: string; ts: string; text: string; blocks: SlackMessage['blocks'] }) => {
    const ms = Math.min(deps.chatUpdatePauseMs?.() ?? 0, MAX_CHAT_UPDATE_PAUSE_WAIT_MS);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    await deps.web.chat.update(args);
  };
  const post = async (root: SlackRoot, m: SlackMessage) => {
    const res = await deps.web.chat.postMessage({
      channel: root.channel,
      thread_ts: root.ts,
      text: m.text,
      blocks: m.blocks,
    });
    return { ts: res.ts };
  };
  return {
    async slackThreadEvent({ root, event }: { root: SlackRoot; event: ThreadEvent }): Promise<{ ts?: string }> {
      switch (event.type) {
        case 'stepStarted':
          return post(root, stepStarted(event.step, event.targets, event.window, event.ramp));
        case 'steered':
          return post(root, steered(event.record));
        case 'rampStage':
          return post(root, rampStage(event));
        case 'decision':
          return post(
            root,
            event.decision.kind === 'manual'
              ? manualCard(event.rolloutId, event.decision, event.answerers)
              : failureCard(event.rolloutId, event.decision, event.answerers),
          );
        case 'decisionAnswered': {
          const m = decisionOutcome(event.rolloutId, event.decision);
          await update({ channel: root.channel, ts: event.cardTs, text: m.text, blocks: m.blocks });
          return { ts: event.cardTs };
        }
        case 'targetWait':
          return post(root, targetWaiting(event.target, event.lock, event.since));
        case 'reminder': {
          const to = event.escalateTo;
          if (event.phase === 'escalation' && to && 'channel' in to) {
            // The escalation channel gets its own message pointing at the thread (a link when Slack gives one).
            let url: string | undefined;
            try {
              url = (await deps.web.chat.getPermalink({ channel: root.channel, message_ts: root.ts })).permalink;
            } catch {
              url = undefined;
            }
            const m = escalationPost(event, url);
            await deps.web.chat.postMessage({ channel: to.channel.replace(/^#/, ''), text: m.text, blocks: m.blocks });
          }
          return post(root, reminderMessage(event));
        }
        case 'ended': {
          // The root's last word comes from the workflow itself, so it is right even if no bot saw the end.
          const r = rootMessage(event.summary, {
            now: now(),
            ...(deps.temporalUiUrl ? { temporalUiUrl: deps.temporalUiUrl } : {}),
            ...(deps.temporalNamespace ? { temporalNamespace: deps.temporalNamespace } : {}),
          });
          await update({ channel: root.channel, ts: root.ts, text: r.text, blocks: r.blocks });
          return post(root, rolloutEnded(event.summary, now()));
        }
      }
    },
  };
}

export type SlackActivities = ReturnType<typeof createSlackActivities>;
