// What `/rollout …` and a thread message mean for steering: pause [reason], resume, window <n>, and
// `--override-freeze <reason>` after a release.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/bot/commandParser';
import { steerRequestOf } from '../../src/bot/listeners/events/threadMessage';

describe('parseCommand for steering and freezes', () => {
  it('pause, resume and window', () => {
    expect(parseCommand('pause r-1 db migration running')).toEqual({
      ok: true,
      command: { kind: 'pause', rolloutId: 'r-1', reason: 'db migration running' },
    });
    expect(parseCommand('pause r-1')).toEqual({ ok: true, command: { kind: 'pause', rolloutId: 'r-1' } });
    expect(parseCommand('resume r-1')).toEqual({ ok: true, command: { kind: 'resume', rolloutId: 'r-1' } });
    expect(parseCommand('window r-1 4')).toEqual({
      ok: true,
      command: { kind: 'window', rolloutId: 'r-1', window: 4 },
    });
    expect(parseCommand('window r-1')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/missing window size/),
    });
    expect(parseCommand('window r-1 0')).toMatchObject({ ok: false, error: expect.stringMatching(/whole number ≥ 1/) });
    expect(parseCommand('resume')).toMatchObject({ ok: false, error: expect.stringMatching(/missing rollout id/) });
    expect(parseCommand('resume r-1 now')).toMatchObject({ ok: false });
  });

  it('--override-freeze takes the rest of the line as its reason; the release is still checked', () => {
    expect(parseCommand('web-farm v2 --override-freeze hotfix for CVE-1')).toEqual({
      ok: true,
      command: { kind: 'start', deployable: 'web-farm', release: 'v2', overrideFreeze: 'hotfix for CVE-1' },
    });
    expect(parseCommand('web-farm v2 --override-freeze')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/an override needs a reason/),
    });
    expect(parseCommand('web-farm v2; x --override-freeze r')).toMatchObject({ ok: false });
  });
});

describe('steering typed in a thread', () => {
  it('pause [reason], resume, window <n>; anything else is not steering', () => {
    expect(steerRequestOf('pause')).toEqual({ kind: 'pause' });
    expect(steerRequestOf('Pause while I check')).toEqual({ kind: 'pause', reason: 'while I check' });
    expect(steerRequestOf(' resume. ')).toEqual({ kind: 'resume' });
    expect(steerRequestOf('window 3')).toEqual({ kind: 'window', window: 3 });
    for (const text of ['please pause', 'window', 'window 0', 'status', 'resume now'])
      expect(steerRequestOf(text), text).toBeUndefined();
  });
});
