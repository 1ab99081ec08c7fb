import { describe, expect, it } from 'vitest';
import {
  ACTION_CANCEL,
  ACTION_DECIDE_EXCLUDE,
  ACTION_DECIDE_FAIL,
  ACTION_DECIDE_IGNORE,
  ACTION_DECIDE_RETRY,
  ACTION_FOR_CHOICE,
  ACTION_MANUAL_ABORT,
  ACTION_MANUAL_PROCEED,
  ACTION_ROLLBACK,
  ACTION_WITHDRAW,
  decodeButtonValue,
  decodeRolloutValue,
  encodeButtonValue,
  encodeRolloutValue,
} from '../../../activities/slack/blocks/ids';

describe('action ids', () => {
  it('are distinct, namespaced and short', () => {
    const ids = [
      ACTION_DECIDE_FAIL,
      ACTION_DECIDE_RETRY,
      ACTION_DECIDE_IGNORE,
      ACTION_DECIDE_EXCLUDE,
      ACTION_MANUAL_PROCEED,
      ACTION_MANUAL_ABORT,
      ACTION_CANCEL,
      ACTION_WITHDRAW,
      ACTION_ROLLBACK,
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^rollout\.[a-z_.]+$/);
      expect(id.length).toBeLessThanOrEqual(255);
    }
    expect(ACTION_DECIDE_RETRY).toBe('rollout.decide.retry');
    expect(ACTION_FOR_CHOICE.abort).toBe(ACTION_MANUAL_ABORT);
  });
});

describe('encodeButtonValue / decodeButtonValue', () => {
  it('round-trips, whatever the ids hold', () => {
    for (const v of [
      { rolloutId: 'rollout-web-farm-1', decisionId: 'd1', choice: 'retry' as const },
      { rolloutId: 'a|b|c "quoted" <x> & é 🚀', decisionId: 'd|2\n', choice: 'exclude' as const },
      { rolloutId: 'r'.repeat(1000), decisionId: 'd'.repeat(100), choice: 'abort' as const },
    ]) {
      const s = encodeButtonValue(v);
      expect(s.length).toBeLessThanOrEqual(2000);
      expect(decodeButtonValue(s)).toEqual(v);
    }
    expect(encodeButtonValue({ rolloutId: 'r1', decisionId: 'd1', choice: 'fail' })).toBe(
      '{"r":"r1","d":"d1","c":"fail"}',
    );
  });

  it('refuses to encode what would not fit or decode', () => {
    expect(() => encodeButtonValue({ rolloutId: 'r'.repeat(2000), decisionId: 'd1', choice: 'fail' })).toThrow(
      RangeError,
    );
    expect(() => encodeButtonValue({ rolloutId: '', decisionId: 'd1', choice: 'fail' })).toThrow(RangeError);
    expect(() => encodeButtonValue({ rolloutId: 'r', decisionId: 'd1', choice: 'nuke' as never })).toThrow(RangeError);
  });

  it('returns undefined on anything malformed', () => {
    const bad: unknown[] = [
      undefined,
      null,
      42,
      '',
      'r1|d1|retry',
      '{',
      'null',
      '[]',
      '"x"',
      '{"r":"r1","d":"d1"}',
      '{"r":"r1","d":"d1","c":"nuke"}',
      '{"r":"","d":"d1","c":"fail"}',
      '{"r":"r1","d":2,"c":"fail"}',
      '{"r":"r1","d":"d1","c":"fail","x":1}',
      `{"r":"${'r'.repeat(2000)}","d":"d1","c":"fail"}`,
    ];
    for (const v of bad) expect(decodeButtonValue(v), String(v)).toBeUndefined();
  });

  it('rollout values (Cancel / Withdraw) carry the rollout id, its deployable and release, and decode strictly', () => {
    const v = { rolloutId: 'rollout-web-farm-v2-0123abcd', deployable: 'web-farm', release: 'v2' };
    expect(encodeRolloutValue(v)).toBe(
      '{"rollout":"rollout-web-farm-v2-0123abcd","deployable":"web-farm","release":"v2"}',
    );
    expect(decodeRolloutValue(encodeRolloutValue(v))).toEqual(v);
    expect(decodeRolloutValue('')).toBeUndefined();
    expect(decodeRolloutValue(7)).toBeUndefined();
    expect(() => encodeRolloutValue({ ...v, rolloutId: 'r'.repeat(2001) })).toThrow(RangeError);
    expect(() => encodeRolloutValue({ ...v, deployable: '' })).toThrow(RangeError);
    // A bare rollout id (what these buttons carried before), a decision value, anything not exactly the shape.
    for (const bad of [
      'rollout-1',
      '{"r":"r1","d":"d1","c":"fail"}',
      '{"rollout":"r1","deployable":"web"}',
      '{"rollout":"r1","deployable":"web","release":""}',
      '{"rollout":"r1","deployable":"web","release":"v2","x":1}',
      '{"rollout":1,"deployable":"web","release":"v2"}',
    ]) {
      expect(decodeRolloutValue(bad), bad).toBeUndefined();
    }
    expect(decodeButtonValue(encodeRolloutValue(v))).toBeUndefined();
  });
});
