// Snapshots of the reminder and escalation messages of a pending decision (thread replies and the escalation
// channel's post), and the notifier posting an escalation both to its channel and in the thread.
import { describe, expect, it } from 'vitest';
import type { WebClient } from '@slack/web-api';
import {
  escalationPost,
  reminderMessage,
  targetWaiting,
  type ReminderEvent,
} from '../../../activities/slack/blocks/index';
import { createSlackActivities } from '../../../activities/slack/notifier';
import { validateMessage } from '../../../dev/standin/blockKit';
import { failureDecision, manualDecision } from './fixtures';

const base = (over: Partial<ReminderEvent> = {}): ReminderEvent => ({
  rolloutId: 'rollout-web-farm-20250304-140000',
  deployable: 'web-farm',
  release: 'v2',
  decision: failureDecision({ createdAt: '2025-03-04T14:00:00Z' }),
  phase: 'reminder',
  answerers: ['U1ALICE', 'U2BOB'],
  doneBefore: ['drain'],
  at: '2025-03-04T14:15:00Z',
  ...over,
});

describe('reminders and escalation', () => {
  it('a reminder mentions the approvers again and says the target is waiting out of its pool', () => {
    const m = reminderMessage(base());
    expect(m).toMatchSnapshot();
    expect(m.text).toContain('<@U1ALICE>');
    expect(m.text).toContain('15m 00s');
    expect(JSON.stringify(m.blocks)).toContain('out of its pool');
    expect(validateMessage(m)).toEqual([]);
  });

  it('a manual step reminder asks for Proceed or Abort', () => {
    const m = reminderMessage(
      base({ decision: manualDecision({ createdAt: '2025-03-04T14:00:00Z' }), doneBefore: [] }),
    );
    expect(m).toMatchSnapshot();
    expect(validateMessage(m)).toEqual([]);
  });

  it('an escalation to a group mentions its members in the thread', () => {
    const m = reminderMessage(
      base({ phase: 'escalation', at: '2025-03-04T15:00:00Z', escalateTo: { group: '@oncall', members: ['U3CAROL'] } }),
    );
    expect(m).toMatchSnapshot();
    expect(m.text).toContain('<@U3CAROL>');
    expect(validateMessage(m)).toEqual([]);
  });

  it('an escalation to a channel posts there (with the thread link) and says so in the thread', async () => {
    const e = base({ phase: 'escalation', at: '2025-03-04T15:00:00Z', escalateTo: { channel: '#ops-oncall' } });
    const post = escalationPost(e, 'https://example.slack.com/archives/C1/p1700000000000000');
    expect(post).toMatchSnapshot();
    expect(validateMessage(post)).toEqual([]);
    const calls: Array<{ channel: string; thread_ts?: string; text: string }> = [];
    const web = {
      chat: {
        postMessage: async (a: { channel: string; thread_ts?: string; text: string }) => {
          calls.push(a);
          return { ts: `1.${calls.length}` };
        },
        getPermalink: async () => ({ permalink: 'https://example.slack.com/archives/C1/p1' }),
      },
    } as unknown as WebClient;
    const acts = createSlackActivities({ web });
    await acts.slackThreadEvent({
      root: { channel: 'C1DEPLOYS', ts: '1700000000.000000' },
      event: { type: 'reminder', ...e },
    });
    expect(calls.map((c) => [c.channel, c.thread_ts])).toEqual([
      ['ops-oncall', undefined],
      ['C1DEPLOYS', '1700000000.000000'],
    ]);
    expect(calls[0]?.text).toContain('Escalated');
    expect(calls[1]?.text).toContain('Escalated to #ops-oncall');
  });
});

describe('shared targets', () => {
  it('a target waiting for its shared lock says on what and since when', () => {
    for (const lock of ['10.0.0.1:22', 'name:db-box']) {
      const m = targetWaiting('web1', lock, '2025-03-04T14:03:00Z');
      expect(m).toMatchSnapshot();
      expect(m.text).toContain('14:03 UTC');
      expect(validateMessage(m)).toEqual([]);
    }
  });
});
