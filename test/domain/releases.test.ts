// The release history's bounds and the rollback rule, as plain functions.
import { describe, expect, it } from 'vitest';
import {
  chooseRollback,
  previousRelease,
  recordRelease,
  RELEASE_HISTORY_LIMIT,
  TARGET_DETAIL_RECORDS,
  type ReleaseOutcome,
  type ReleaseRecord,
  type TargetVersion,
} from '../../domain/releases';
import { lockBlocks } from '../../domain/locks';
import { parseCommand } from '../../src/bot/commandParser';

function rec(i: number, release: string, outcome: ReleaseOutcome = 'succeeded', targets = ['a', 'b']): ReleaseRecord {
  return {
    rolloutId: `r${i}`,
    release,
    requestedBy: 'U1',
    requestedAt: 't',
    startedAt: 't',
    endedAt: `t${i}`,
    outcome,
    started: targets.length,
    received: targets.length,
    targets: targets.map((name, k) => ({ name, received: outcome === 'succeeded' || k < targets.length - 1 })),
  };
}

describe('recordRelease', () => {
  it('keeps the latest RELEASE_HISTORY_LIMIT records, target lists on the latest TARGET_DETAIL_RECORDS only', () => {
    const history: ReleaseRecord[] = [];
    const versions: Record<string, TargetVersion> = {};
    for (let i = 1; i <= RELEASE_HISTORY_LIMIT + 7; i++) recordRelease(history, versions, rec(i, `v${i}`));
    expect(history).toHaveLength(RELEASE_HISTORY_LIMIT);
    expect(history[0]?.rolloutId).toBe('r8');
    expect(history.filter((r) => r.targets).map((r) => r.rolloutId)).toEqual(
      Array.from(
        { length: TARGET_DETAIL_RECORDS },
        (_, k) => `r${RELEASE_HISTORY_LIMIT + 7 - TARGET_DETAIL_RECORDS + 1 + k}`,
      ),
    );
    expect(history[0]).toMatchObject({ started: 2, received: 2 }); // counts stay
    expect(versions).toEqual({
      a: {
        release: `v${RELEASE_HISTORY_LIMIT + 7}`,
        rolloutId: `r${RELEASE_HISTORY_LIMIT + 7}`,
        at: `t${RELEASE_HISTORY_LIMIT + 7}`,
      },
      b: {
        release: `v${RELEASE_HISTORY_LIMIT + 7}`,
        rolloutId: `r${RELEASE_HISTORY_LIMIT + 7}`,
        at: `t${RELEASE_HISTORY_LIMIT + 7}`,
      },
    });
  });

  it('moves only the targets that received the release', () => {
    const history: ReleaseRecord[] = [];
    const versions: Record<string, TargetVersion> = {};
    recordRelease(history, versions, rec(1, 'v1', 'succeeded', ['a', 'b', 'c']));
    recordRelease(history, versions, rec(2, 'v2', 'failed', ['a', 'b']));
    expect(Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, v.release]))).toEqual({
      a: 'v2',
      b: 'v1',
      c: 'v1',
    });
  });
});

describe('chooseRollback', () => {
  it('rolls the latest back to the last release that succeeded before it, on every target', () => {
    const h = [rec(1, 'v1'), rec(2, 'v2', 'failed'), rec(3, 'v3')];
    expect(chooseRollback('web', h)).toMatchObject({ ok: true, to: { release: 'v1' }, partial: false });
    expect(chooseRollback('web', h).ok && (chooseRollback('web', h) as { targets?: string[] }).targets).toBeUndefined();
  });

  it('a failed or stopped latest rollout: only its targets, newest-started first', () => {
    const h = [rec(1, 'v1'), rec(2, 'v2', 'cancelled', ['c', 'a', 'b'])];
    expect(chooseRollback('web', h)).toMatchObject({ ok: true, partial: true, targets: ['b', 'a', 'c'] });
  });

  it('says why not: no history, nothing before, stale, unknown, no target reached', () => {
    expect(chooseRollback('web', [])).toEqual({
      ok: false,
      reason: 'web has no release history yet: there is nothing to roll back',
    });
    expect(chooseRollback('web', [rec(1, 'v1'), rec(2, 'v1')])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no release of web succeeded before v1/),
    });
    expect(chooseRollback('web', [rec(1, 'v1'), rec(2, 'v2')], 'r1')).toMatchObject({
      ok: false,
      reason: 'r1 (v1) is no longer the latest release of web: r2 (v2) came after it',
    });
    expect(chooseRollback('web', [rec(1, 'v1')], 'r9')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/r9 is not/),
    });
    expect(chooseRollback('web', [rec(1, 'v1'), rec(2, 'v2', 'aborted', [])])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/before any target began receiving it/),
    });
  });

  it('previousRelease: the button of a rollout not yet recorded looks at everything before it', () => {
    const h = [rec(1, 'v1'), rec(2, 'v2')];
    expect(previousRelease(h, 'r3', 'v3')?.release).toBe('v2');
    expect(previousRelease(h, 'r2', 'v2')?.release).toBe('v1');
    expect(previousRelease(h, 'r1', 'v1')).toBeUndefined();
  });
});

describe('locks and their commands', () => {
  it('block everyone but the holder', () => {
    const lock = { holder: 'U1', reason: 'db', since: '2025-03-04T14:00:00Z' };
    expect(lockBlocks('web', lock, 'U1')).toBeUndefined();
    expect(lockBlocks('web', undefined, 'U2')).toBeUndefined();
    expect(lockBlocks('web', lock, 'U2')).toBe('web is locked by U1 since 2025-03-04T14:00:00Z: db');
  });

  it('/rollout history|rollback|lock|unlock parse; missing parts are named', () => {
    expect(parseCommand('history web')).toEqual({ ok: true, command: { kind: 'history', deployable: 'web' } });
    expect(parseCommand('rollback web')).toEqual({ ok: true, command: { kind: 'rollback', deployable: 'web' } });
    expect(parseCommand('unlock web')).toEqual({ ok: true, command: { kind: 'unlock', deployable: 'web' } });
    expect(parseCommand('lock web db migration --take-over')).toEqual({
      ok: true,
      command: { kind: 'lock', deployable: 'web', reason: 'db migration', takeOver: true },
    });
    expect(parseCommand('lock web')).toMatchObject({ ok: false, error: expect.stringMatching(/missing reason/) });
    expect(parseCommand('history')).toMatchObject({ ok: false, error: expect.stringMatching(/missing deployable/) });
    expect(parseCommand('rollback web now')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unexpected `now`/),
    });
  });
});
