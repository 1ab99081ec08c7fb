import { describe, expect, it } from 'vitest';
import {
  chunkEscaped,
  keepHead,
  escapeMrkdwn,
  fitEnd,
  fitStart,
  formatDuration,
  formatUtcTime,
  nameList,
  progressBar,
  safeCut,
  who,
} from '../../../activities/slack/blocks/text';

describe('text helpers', () => {
  it('escapes the mrkdwn control characters', () => {
    expect(escapeMrkdwn('<script>a & b</script> *bold*')).toBe('&lt;script&gt;a &amp; b&lt;/script&gt; *bold*');
  });

  it('cuts escaped text without splitting entities or surrogate pairs', () => {
    const raw = '<<<<<<<<<<';
    for (let max = 1; max <= 45; max++) {
      const start = fitStart(raw, max);
      const end = fitEnd(raw, max);
      expect(start.length).toBeLessThanOrEqual(max);
      expect(end.length).toBeLessThanOrEqual(max);
      expect(start.replace(/&lt;/g, '')).toMatch(/^…?$/);
      expect(end.replace(/&lt;/g, '')).toMatch(/^…?$/);
    }
    expect(fitEnd('🚀🚀🚀', 3)).toBe('…🚀');
    expect(fitEnd('abcdef', 4, (n) => `${n}:`)).toBe('4:ef');
    expect(keepHead('ab🚀', 3)).toBe('ab…');
    expect(safeCut('hi <@U123ABC> there', 8)).toBe('hi …');
    expect(safeCut('a &amp; b', 5)).toBe('a …');
  });

  it('chunks long text at line breaks, each chunk within the limit', () => {
    const raw = Array.from({ length: 400 }, (_, i) => `line ${i} <b> & more`).join('\n');
    const chunks = chunkEscaped(raw, 3000, 3);
    expect(chunks).toHaveLength(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(3000);
    expect(chunks[0]?.endsWith('\n')).toBe(true);
    expect(chunks[2]).toMatch(/more characters not shown\)_$/);
    expect(chunkEscaped('short', 3000, 3)).toEqual(['short']);
  });

  it('formats durations, times, identities, progress and lists', () => {
    expect([45_000, 723_000, 3_720_000, 183_600_000].map(formatDuration)).toEqual([
      '45s',
      '12m 03s',
      '1h 02m',
      '2d 3h',
    ]);
    expect(formatUtcTime('2025-03-04T14:03:59Z')).toBe('14:03 UTC');
    expect(formatUtcTime('yesterday')).toBeUndefined();
    expect(who('U123ABC')).toBe('<@U123ABC>');
    expect(who('cli:alice')).toBe('cli:alice');
    expect(who('<@U1>')).toBe('&lt;@U1&gt;');
    expect(progressBar(12, 20, 6)).toBe('▰▰▰▱▱▱');
    expect(progressBar(0, 20)).toBe('▱▱▱▱▱▱▱▱▱▱');
    expect(progressBar(1, 1000)).toBe('▰▱▱▱▱▱▱▱▱▱');
    expect(progressBar(999, 1000)).toBe('▰▰▰▰▰▰▰▰▰▱');
    expect(progressBar(20, 20)).toBe('▰▰▰▰▰▰▰▰▰▰');
    expect(nameList(['a', 'b', 'c'], 30, 2)).toBe('a, b +28 more');
  });
});
