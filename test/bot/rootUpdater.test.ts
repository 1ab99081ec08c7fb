// The root updater's workspace-wide token bucket (pure, with an injected clock).
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/bot/rootUpdater';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate, and a Retry-After pause stops everything', () => {
    let t = 0;
    const b = new TokenBucket(50 / 60_000, 3, () => t);
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    t += 1200; // 50/min = one every 1.2 s
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    t += 60_000;
    b.pause(5000);
    expect(b.pausedMs).toBe(5000);
    expect(b.tryTake()).toBe(false);
    t += 5000;
    // After the pause the bucket starts empty and refills from there.
    expect(b.tryTake()).toBe(false);
    t += 1200;
    expect(b.tryTake()).toBe(true);
  });
});
