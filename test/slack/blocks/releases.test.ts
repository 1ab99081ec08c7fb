// Snapshots of the release history, lock and rollback messages, and the root's Roll back button.
import { describe, expect, it } from 'vitest';
import {
  ACTION_ROLLBACK,
  decodeRolloutValue,
  historyMessage,
  lockNotice,
  rollbackPrompt,
  rootMessage,
} from '../../../activities/slack/blocks/index';
import type { ReleaseRecord } from '../../../domain/releases';
import type { ReleaseHistory } from '../../../workflows/releaseMessages';
import { failedSummary, NOW, succeededSummary } from './fixtures';

const v1: ReleaseRecord = {
  rolloutId: 'rollout-web-farm-v1-0001',
  release: 'v1',
  requestedBy: 'U123ABC',
  requestedAt: '2025-03-03T09:00:00Z',
  startedAt: '2025-03-03T09:00:01Z',
  endedAt: '2025-03-03T09:12:00Z',
  outcome: 'succeeded',
  started: 3,
  received: 3,
};
const v2: ReleaseRecord = {
  ...v1,
  rolloutId: 'rollout-web-farm-v2-0002',
  release: 'v2',
  requestedBy: 'cli:alice',
  endedAt: '2025-03-04T14:05:00Z',
  outcome: 'failed',
  started: 2,
  received: 1,
  targets: [
    { name: 'web1', received: true },
    { name: 'web2', received: false },
  ],
};
const history: ReleaseHistory = {
  deployable: 'web-farm',
  releases: [v1, v2],
  targets: {
    web1: { release: 'v2', rolloutId: v2.rolloutId, at: v2.endedAt },
    web2: { release: 'v1', rolloutId: v1.rolloutId, at: v1.endedAt },
    web3: { release: 'v1', rolloutId: v1.rolloutId, at: v1.endedAt },
  },
  lock: {
    holder: 'U456DEF',
    reason: 'db <migration> & cleanup',
    since: '2025-03-04T14:10:00Z',
    takenFrom: { holder: 'U123ABC', reason: 'x', since: '2025-03-04T14:00:00Z' },
  },
  lockEvents: [],
};

describe('release messages', () => {
  it('historyMessage: the lock, releases newest first, what each target runs', () => {
    const m = historyMessage('web-farm', history);
    expect(m).toMatchSnapshot();
    const text = JSON.stringify(m.blocks);
    expect(text.indexOf('*v2*')).toBeLessThan(text.indexOf('*v1*'));
    expect(text).toContain('db &lt;migration&gt; &amp; cleanup');
  });

  it('historyMessage with nothing recorded', () => {
    expect(historyMessage('web-farm', undefined)).toMatchSnapshot();
  });

  it('lockNotice names the holder as a mention', () => {
    expect(lockNotice('web-farm', history.lock!)).toBe(
      ':lock: *web-farm* is locked by <@U456DEF> since 14:10 UTC: db &lt;migration&gt; &amp; cleanup (taken over from <@U123ABC>)',
    );
  });

  it('rollbackPrompt: partial, with the confirmed button', () => {
    expect(rollbackPrompt({ ...v2, deployable: 'web-farm' }, 'v1', ['web2', 'web1'])).toMatchSnapshot();
  });

  it('rootMessage of a finished rollout with rollbackTo carries the button; a running one never does', () => {
    const done = rootMessage(succeededSummary(), { now: NOW, rollbackTo: 'v1' });
    expect(done.blocks.at(-1)).toMatchSnapshot();
    const failed = rootMessage(failedSummary(), { now: NOW, rollbackTo: 'v1' });
    expect(JSON.stringify(failed.blocks.at(-1))).toContain(
      'only the targets that began receiving v2, the last one first',
    );
    const button = JSON.stringify(done.blocks).match(/"value":"((?:[^"\\]|\\.)*)"/)?.[1];
    expect(decodeRolloutValue(JSON.parse(`"${button}"`))).toEqual({
      rolloutId: succeededSummary().rolloutId,
      deployable: 'web-farm',
      release: 'v1',
    });
    expect(JSON.stringify(rootMessage(succeededSummary(), { now: NOW }).blocks)).not.toContain(ACTION_ROLLBACK);
  });
});
