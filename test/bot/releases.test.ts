// `/rollout history`, `/rollout lock|unlock`, `/rollout rollback` and the Roll back button, through the REAL Bolt
// app receiving signed requests, the Slack stand-in, real Temporal and real sshd targets.
import { describe, expect, it } from 'vitest';
import { ACTION_ROLLBACK } from '../../activities/slack/blocks';
import type { StandinMessage } from '../../dev/standin/server';
import { rolloutHandle } from '../../src/temporal/client';
import { getReleaseHistory } from '../../src/temporal/deployables';
import type { TargetPlan } from '../../domain/plan';
import type { ReleaseHistory } from '../../workflows/releaseMessages';
import { configFor, readTargetFile } from '../support/rollouts';
import { findButton, rolloutIdOf, roots, startHarness, textOf, waitFor, type Harness } from './harness';
import { botSuite } from './suite';

const suite = botSuite({
  name: 'bot-releases',
  sshd: { count: 3, baseAddress: '127.0.5.11' },
  users: ['UALICE', 'UBOB', 'UEVE'],
});

/** One deployable per test (each has its own queue workflow, history and lock); UEVE may start none. */
function config(targets: TargetPlan[]) {
  const deployable = {
    targets: ['tag:web'],
    starters: ['UALICE', 'UBOB'],
    process: [
      {
        type: 'rolling',
        name: 'deploy',
        window: 2,
        childSteps: [{ name: 'install', script: 'printf %s #{Release} > version' }],
      },
    ],
  };
  return configFor(targets, { hist: deployable, guarded: deployable, undo: deployable });
}

async function harness(name: string) {
  const targets = suite.sshd.targetsFor(name);
  const h = await startHarness(suite.env, suite.standin, config(targets));
  suite.harnesses.push(h);
  return { h, targets };
}

const current = (m: StandinMessage) => suite.standin.message(m.channel, m.ts)!;

/** `/rollout <text>` as `user`, and the ephemeral answer. */
async function ask(h: Harness, text: string, user = 'UALICE'): Promise<StandinMessage> {
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3000);
  const answer = await h.waitResponse(r.responseId);
  expect(answer.ephemeral).toBe(true);
  return answer;
}

/** Starts `text` from Slack and waits until its rollout has ended; returns its root message. */
async function rollOut(h: Harness, text: string, user = 'UALICE'): Promise<StandinMessage> {
  const before = roots(suite.standin).length;
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  const root = await waitFor(() => roots(suite.standin)[before], 15_000, `the root message of ${text}`);
  await resultOf(rolloutIdOf(root));
  return root;
}

async function resultOf(rolloutId: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    try {
      return (await rolloutHandle(suite.env.client, rolloutId).result()).status;
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${rolloutId} never started`);
}

/** Polls the deployable's history (its queue records a rollout a moment after it ends). */
async function historyUntil(deployable: string, pred: (h: ReleaseHistory) => boolean): Promise<ReleaseHistory> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await getReleaseHistory(suite.env.client, suite.env.taskQueue, deployable);
    if (h && pred(h)) return h;
    if (Date.now() > deadline) throw new Error(`history of ${deployable} never matched: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/rollout history', () => {
  it('says there is nothing yet, then lists the release with who, outcome and targets', async () => {
    const { h } = await harness('history');
    expect(textOf(await ask(h, 'history hist'))).toMatch(/hist\* has no releases yet/);
    const root = await rollOut(h, 'hist v7', 'UBOB');
    await historyUntil('hist', (x) => x.releases.length === 1);
    const answer = textOf(await ask(h, 'history hist'));
    expect(answer).toMatch(/Releases of hist/);
    expect(answer).toMatch(/\*v7\* succeeded by <@UBOB>, .* · 3\/3 targets/);
    expect(answer).toContain(rolloutIdOf(root));
    expect(answer).toMatch(/Targets run: \*v7\* on web1, web2, web3/);
    expect(textOf(await ask(h, 'history nope'))).toMatch(/Unknown deployable/);
  });
});

describe('/rollout lock', () => {
  it('refuses everyone else (naming the holder and why, nothing posted); take-over is explicit; unlock lets them in', async () => {
    const { h } = await harness('lock');
    const locked = await ask(h, 'lock guarded db migration');
    expect(textOf(locked)).toMatch(/guarded\* is locked by <@UALICE> since \d\d:\d\d UTC: db migration/);

    const before = roots(suite.standin).length;
    const bob = await ask(h, 'guarded v2', 'UBOB');
    expect(textOf(bob)).toMatch(/locked by <@UALICE> since .*: db migration/);
    expect(textOf(bob)).toMatch(/Nothing was started/);
    expect(roots(suite.standin).length).toBe(before);

    expect(textOf(await ask(h, 'lock guarded mine', 'UBOB'))).toMatch(/Not taken: .*locked by <@UALICE>/);
    expect(textOf(await ask(h, 'unlock guarded', 'UBOB'))).toMatch(/Not taken: .*locked by <@UALICE>/);
    expect(textOf(await ask(h, 'lock guarded', 'UBOB'))).toMatch(/missing reason/);
    expect(textOf(await ask(h, 'lock guarded db', 'UEVE'))).toMatch(/may not lock guarded/);

    const taken = await ask(h, 'lock guarded incident 42 --take-over', 'UBOB');
    expect(textOf(taken)).toMatch(/locked by <@UBOB> .*: incident 42/);
    expect(textOf(taken)).toMatch(/Taken over from <@UALICE> \(recorded\)/);
    const history = await getReleaseHistory(suite.env.client, suite.env.taskQueue, 'guarded');
    expect(history?.lockEvents.at(-1)).toMatchObject({ kind: 'taken-over', by: 'UBOB', from: 'UALICE' });
    expect(textOf(await ask(h, 'list'))).toMatch(/guarded\* is locked by <@UBOB>/);

    expect(textOf(await ask(h, 'unlock guarded', 'UBOB'))).toMatch(/guarded\* is unlocked/);
    // Control: unlocked, the same request as before is posted and runs.
    const root = await rollOut(h, 'guarded v2', 'UALICE');
    expect(textOf(root)).toContain('guarded');
    expect(await resultOf(rolloutIdOf(root))).toBe('succeeded');
  });
});

describe('Roll back', () => {
  it("a finished rollout's root carries Roll back to <previous> (confirmed); a starter's click rolls back through the queue", async () => {
    const { h, targets } = await harness('rollback');
    const v1 = await rollOut(h, 'undo v1');
    // The first release has nothing before it: its final root has no Roll back button.
    await waitFor(() => /succeeded/i.test(current(v1).text ?? ''), 15_000, 'v1 root final');
    const v2 = await rollOut(h, 'undo v2');
    const final = await waitFor(
      () => findButton(current(v2), ACTION_ROLLBACK) && current(v2),
      20_000,
      'the Roll back button on the v2 root',
    );
    expect(findButton(current(v1), ACTION_ROLLBACK)).toBeUndefined();
    const button = (final.blocks as Array<{ type: string; elements?: Array<Record<string, any>> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ACTION_ROLLBACK)!;
    expect(button.text.text).toBe('Roll back to v1');
    expect(button.confirm).toMatchObject({ title: { text: 'Roll back to v1?' }, confirm: { text: 'Roll back' } });
    expect(button.confirm.text.text).toMatch(/undo v2 is replaced by v1 on every target of undo/);

    // `/rollout rollback` offers the same, behind the same confirmed button.
    const prompt = await ask(h, 'rollback undo');
    expect(textOf(prompt)).toMatch(/Roll \*undo\* back from \*v2\* \(succeeded\) to \*v1\* on every target/);
    expect(findButton(prompt, ACTION_ROLLBACK)?.value).toBe(findButton(final, ACTION_ROLLBACK)?.value);

    // Someone who may not start it is refused, and nothing is posted.
    const before = roots(suite.standin).length;
    const eve = await h.click(final, ACTION_ROLLBACK, 'UEVE');
    expect(eve.ms).toBeLessThan(3000);
    expect(textOf(await h.waitResponse(eve.responseId))).toMatch(/may not roll back undo/);
    expect(roots(suite.standin).length).toBe(before);

    const click = await h.click(final, ACTION_ROLLBACK, 'UBOB');
    expect(click.status).toBe(200);
    expect(click.ms).toBeLessThan(3000);
    const rollbackRoot = await waitFor(() => roots(suite.standin)[before], 15_000, 'the rollback root');
    expect(textOf(rollbackRoot)).toMatch(/undo v1/);
    expect(textOf(await h.waitResponse(click.responseId))).toMatch(/Rolling undo back from v2 to v1 on every target/);
    expect(await resultOf(rolloutIdOf(rollbackRoot))).toBe('succeeded');
    for (const t of targets) expect(readTargetFile(t, 'version')).toBe('v1');
    const history = await historyUntil('undo', (x) => x.releases.length === 3);
    expect(history.releases.at(-1)).toMatchObject({ release: 'v1', requestedBy: 'UBOB', rollbackOf: rolloutIdOf(v2) });

    // The same button again is stale: v2 is no longer the latest release.
    const again = await h.click(final, ACTION_ROLLBACK, 'UBOB');
    expect(textOf(await h.waitResponse(again.responseId))).toMatch(
      /Not rolled back: .*is no longer the latest release/,
    );
  });
});
