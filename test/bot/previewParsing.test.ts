// `/rollout <deployable> <release> --plan`: the flag anywhere after the deployable, never part of the release.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/bot/commandParser';

describe('--plan', () => {
  it('asks for a preview of the request', () => {
    for (const text of ['web v2 --plan', 'web --plan v2'])
      expect(parseCommand(text)).toEqual({
        ok: true,
        command: { kind: 'start', deployable: 'web', release: 'v2', plan: true },
      });
    // Control: without it, a plain request.
    expect(parseCommand('web v2')).toEqual({ ok: true, command: { kind: 'start', deployable: 'web', release: 'v2' } });
    expect(parseCommand('web --plan')).toEqual({ ok: false, error: 'missing release: say which release to roll out' });
  });
});
