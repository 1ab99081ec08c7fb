// A decision left pending: the reminder in the thread (its approvers mentioned again, saying what waits: a target
// stopped mid-chain may be out of its pool), the escalation in the thread, and the escalation posted to a channel.
import type { Decision } from '../../../workflows/messages';
import { BLOCK_ESCALATION, BLOCK_REMINDER } from './ids';
import { mentionList } from './mentions';
import {
  elapsedMs,
  formatUtcTime,
  escapeMrkdwn,
  fallback,
  formatDuration,
  mrkdwnSection,
  name,
  nameList,
  type SlackMessage,
} from './text';

export interface ReminderEvent {
  rolloutId: string;
  deployable: string;
  release: string;
  decision: Decision;
  phase: 'reminder' | 'escalation';
  /** Who may answer, mentioned again. */
  answerers: string[];
  /** Escalation: the channel it is posted to, or the group whose members are mentioned in the thread. */
  escalateTo?: { channel: string } | { group: string; members: string[] };
  /** The waiting target's child steps that succeeded before the failed one (a `drain`, say). */
  doneBefore?: string[];
  /** When it fell due (the workflow's clock). */
  at: string;
}

/** `#ops-oncall` as Slack links it (`<#C123>` for an id). */
function channelText(channel: string): string {
  return /^[CG][A-Z0-9]+$/.test(channel) ? `<#${channel}>` : name(channel, 80);
}

function waitedText(e: ReminderEvent): string {
  const ms = elapsedMs(e.decision.createdAt, e.at, new Date(e.at));
  return ms === undefined ? 'a while' : formatDuration(ms);
}

/** What waits, in mrkdwn: the target and its failed child step (and what ran before), or the manual step. */
function whatWaits(e: ReminderEvent): string {
  const d = e.decision;
  const waited = waitedText(e);
  if (d.kind === 'manual') {
    return `manual step *${name(d.step, 80)}* has been waiting ${waited} for Proceed or Abort`;
  }
  const target = name(d.target ?? '?', 80);
  const failed = name(d.childStep ?? d.step, 80);
  const done = e.doneBefore ?? [];
  const after = done.length > 0 ? ` after ${nameList(done, done.length, 5)} succeeded` : '';
  const pool = done.length > 0 ? `, so *${target}* may be out of its pool (drained) until someone answers` : ' on it';
  return `*${target}* has been waiting ${waited} for an answer: *${failed}* failed in step *${name(d.step, 80)}*${after}${pool}`;
}

function plain(mrkdwn: string): string {
  return mrkdwn.replace(/\*/g, '');
}

/** The thread reply: a reminder, or the escalation (naming where it went, the group's members mentioned). */
export function reminderMessage(e: ReminderEvent): SlackMessage {
  const mentions = mentionList(
    e.escalateTo && 'group' in e.escalateTo ? [...e.answerers, ...e.escalateTo.members] : e.answerers,
  );
  const what = whatWaits(e);
  const head =
    e.phase === 'reminder'
      ? ':alarm_clock: *Reminder:*'
      : `:rotating_light: *Escalated*${
          e.escalateTo
            ? ` to ${'group' in e.escalateTo ? name(e.escalateTo.group, 80) : channelText(e.escalateTo.channel)}`
            : ''
        }:`;
  const text = `${head} ${what}.${mentions ? ` ${mentions}` : ''}`;
  return {
    text: fallback(`${plain(head.replace(/^:[a-z_]+: /, ''))} ${plain(what)}.${mentions ? ` ${mentions}` : ''}`),
    blocks: [mrkdwnSection(text, BLOCK_REMINDER)],
  };
}

/** The escalation posted to its channel: which rollout, what waits, and a link to the thread when there is one. */
export function escalationPost(e: ReminderEvent, threadUrl?: string): SlackMessage {
  const title = `*${escapeMrkdwn(e.deployable)}* ${escapeMrkdwn(e.release)}`;
  const link = threadUrl ? ` <${threadUrl}|Answer in the thread.>` : '';
  const mentions = mentionList(e.answerers);
  const approvers = mentions ? ` Approvers: ${mentions}.` : '';
  return {
    text: fallback(`Escalated: ${e.deployable} ${e.release}: ${plain(whatWaits(e))}`),
    blocks: [
      mrkdwnSection(`:rotating_light: *Escalated:* ${title}: ${whatWaits(e)}.${approvers}${link}`, BLOCK_ESCALATION),
    ],
  };
}

/** `web1 waits for its shared target 10.0.0.1:22 (another rollout is on it) since 14:03 UTC`. */
export function targetWaiting(target: string, lock: string, since: string): SlackMessage {
  const at = formatUtcTime(since);
  const what = lock.startsWith('name:')
    ? `shared target *${name(lock.slice(5), 80)}*`
    : `shared target *${name(lock, 120)}*`;
  const line = `:lock: *${name(target, 80)}* waits for its ${what}: another rollout is running on it${at ? ` (since ${at})` : ''}`;
  return { text: fallback(plain(line.replace(/^:lock: /, ''))), blocks: [mrkdwnSection(line, BLOCK_REMINDER)] };
}
