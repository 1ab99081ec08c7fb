// The rollout's Slack thread: events posted in order by one coroutine, never in the rollout's way. The rollout
// only queues notes; the pump turns each into a thread event when its turn comes (a decision's card shows the
// decision as it is then) and posts it through the bot's task queue.
import { condition, proxyActivities } from '@temporalio/workflow';
import type { SlackActivities, ThreadEvent } from '../../activities/slack/notifier';
import type { SlackPlan } from '../../domain/plan';
import type { Decision } from '../messages';

/** A thread event, or a decision asked/answered (rendered from the decision when it is posted). */
export type ThreadNote =
  | Exclude<ThreadEvent, { type: 'decisionAnswered' | 'decision' | 'reminder' }>
  | { type: 'answered' | 'asked'; decisionId: string }
  | ReminderNote;

/** A reminder or escalation of a pending decision; posted only if it is still pending when its turn comes. */
export interface ReminderNote {
  type: 'reminder';
  decisionId: string;
  phase: 'reminder' | 'escalation';
  deployable: string;
  release: string;
  at: string;
  escalateTo?: { channel: string } | { group: string; members: string[] };
  doneBefore?: string[];
}

export class ThreadOutbox {
  private readonly notes: ThreadNote[] = [];
  private closed = false;
  private posted = 0;

  constructor(
    private readonly slack: SlackPlan | undefined,
    private readonly rolloutId: string,
  ) {}

  /** Queues a note (rollouts not started from Slack have no thread: nothing is kept). */
  notify(n: ThreadNote): void {
    if (this.slack) this.notes.push(n);
  }

  /** Every queued note has been posted (or given up on). */
  get idle(): boolean {
    return this.posted >= this.notes.length;
  }

  /** No more notes: the pump ends once the queue is posted. */
  close(): void {
    this.closed = true;
  }

  /**
   * Posts the notes in order until closed; a decision's card ts is written back onto the decision. A card
   * mentions `answerersOf(decision)`, so that someone is notified.
   */
  async pump(
    decisions: ReadonlyMap<string, Decision>,
    answerersOf: (d: Decision) => string[] = () => [],
  ): Promise<void> {
    const slack = this.slack;
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
      await condition(() => i < this.notes.length || this.closed);
      const n = this.notes[i];
      if (!n) return;
      let event: ThreadEvent;
      const d = 'decisionId' in n ? decisions.get(n.decisionId) : undefined;
      if (n.type === 'reminder') {
        if (!d || d.answer) {
          this.posted = i + 1;
          continue;
        }
        const { type: _t, decisionId: _id, ...rest } = n;
        event = { type: 'reminder', rolloutId: this.rolloutId, decision: { ...d }, answerers: answerersOf(d), ...rest };
      } else if (n.type === 'asked' || n.type === 'answered') {
        if (!d) {
          this.posted = i + 1;
          continue;
        }
        event =
          n.type === 'asked'
            ? { type: 'decision', rolloutId: this.rolloutId, decision: { ...d }, answerers: answerersOf(d) }
            : { type: 'decisionAnswered', rolloutId: this.rolloutId, decision: { ...d }, cardTs: d.cardTs ?? '' };
      } else {
        event = n as ThreadEvent;
      }
      try {
        const res = await slackThreadEvent({ root, event });
        if (n.type === 'asked' && d && res.ts) d.cardTs = res.ts;
      } catch {
        // Gave up after a day of retries; the rollout's state (and `status`) still has everything.
      }
      this.posted = i + 1;
    }
  }
}
