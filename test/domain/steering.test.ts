// The pure rules behind ramps and freezes: stage sizes, freezes in force, their ends and starts.
import { describe, expect, it } from 'vitest';
import { freezeEnd, freezeInForce, nextFreezeStart, utcMinute } from '../../domain/freezes';
import { maxParallelismOf } from '../../domain/maxParallelism';
import { describeRamp, rampStages } from '../../domain/ramp';

describe('rampStages', () => {
  it('takes each entry in turn, repeats the last, cuts the final stage to what is left', () => {
    const ramp = { windows: [{ count: 1 }, { count: 2 }, { percent: 50 }] };
    expect(rampStages(ramp, 8)).toEqual([1, 2, 4, 1]);
    expect(rampStages(ramp, 2)).toEqual([1, 1]);
    expect(rampStages({ windows: [{ count: 1 }, { percent: 25 }] }, 10)).toEqual([1, 3, 3, 3]);
    expect(rampStages(ramp, 0)).toEqual([]);
    expect(describeRamp(ramp)).toBe('1, 2, 50%');
  });
});

describe('freezes', () => {
  const f = (name: string, from: string, until: string) => ({ name, from, until, reason: name });
  const freezes = [
    f('a', '2025-01-01T10:00:00Z', '2025-01-01T11:00:00Z'),
    f('b', '2025-01-01T11:00:00Z', '2025-01-01T12:00:00Z'),
    f('c', '2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z'),
  ];
  const t = (iso: string) => Date.parse(iso);

  it('in force from (inclusive) until (exclusive), unless overridden', () => {
    expect(freezeInForce(freezes, t('2025-01-01T09:59:59Z'))).toBeUndefined();
    expect(freezeInForce(freezes, t('2025-01-01T10:00:00Z'))?.name).toBe('a');
    expect(freezeInForce(freezes, t('2025-01-01T11:00:00Z'))?.name).toBe('b');
    expect(freezeInForce(freezes, t('2025-01-01T10:30:00Z'), ['a'])).toBeUndefined();
  });

  it('a hold lasts through back-to-back freezes; the next start skips overridden ones', () => {
    expect(new Date(freezeEnd(freezes, t('2025-01-01T10:30:00Z'))).toISOString()).toBe('2025-01-01T12:00:00.000Z');
    expect(nextFreezeStart(freezes, t('2025-01-01T09:00:00Z'))).toBe(t('2025-01-01T10:00:00Z'));
    expect(nextFreezeStart(freezes, t('2025-01-01T09:00:00Z'), ['a', 'b'])).toBe(t('2025-01-02T00:00:00Z'));
    expect(nextFreezeStart(freezes, t('2025-01-02T00:00:00Z'))).toBeUndefined();
    expect(utcMinute('2026-01-05T00:00:00Z')).toBe('2026-01-05 00:00 UTC');
    expect(utcMinute('2026-01-05T00:00:07Z')).toBe('2026-01-05 00:00:07 UTC');
  });
});

describe('maxParallelismOf', () => {
  it('a whole number ≥ 1, or no override', () => {
    expect(maxParallelismOf({ MaxParallelism: '3' })).toBe(3);
    expect(maxParallelismOf({ MaxParallelism: '' })).toBeUndefined();
    expect(maxParallelismOf({})).toBeUndefined();
    expect(maxParallelismOf({ MaxParallelism: '0' })).toBeUndefined();
  });
});
