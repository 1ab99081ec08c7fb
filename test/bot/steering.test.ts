// Steering from Slack end to end: the REAL Bolt app receiving signed requests, the Slack stand-in, real Temporal
// and real sshd targets (127.0.6.11–13): the root's Pause / Resume buttons, `/rollout window`, `pause` and
// `resume` typed in the thread, the MaxParallelism warning in the thread, and a freeze at request time.
import { describe, expect, it } from 'vitest';
import { ACTION_PAUSE, ACTION_RESUME } from '../../activities/slack/blocks';
import type { StandinMessage } from '../../dev/standin/server';
import { getSummary, rolloutHandle } from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor } from '../support/rollouts';
import { waitForSummary } from '../support/temporal';
import { CHANNEL, findButton, roots, startHarness, textOf, threadOf, waitFor, type Harness } from './harness';
import { botSuite } from './suite';

const suite = botSuite({
  name: 'bot-steer',
  sshd: { count: 3, baseAddress: '127.0.6.11' },
  users: ['UALICE', 'UBOB', 'UCAROL', 'UEVE'],
  cleanupEach: true,
});

function config(targets: TargetPlan[]) {
  const people = { starters: ['UALICE', 'UBOB', 'UCAROL'], approvers: ['UALICE', 'UBOB'] };
  const rolling = (work: string) => [
    { type: 'rolling', name: 'deploy', window: 1, childSteps: [{ name: 'work', script: `sleep ${work}` }] },
  ];
  return configFor(targets, {
    'web-farm': { targets: ['tag:web'], ...people, process: rolling('3') },
    capped: { targets: ['tag:web'], ...people, variables: { MaxParallelism: '2' }, process: rolling('0.2') },
    frozen: {
      targets: ['tag:web'],
      ...people,
      freezeOverriders: ['UCAROL'],
      freezes: [
        {
          name: 'audit',
          from: new Date(Date.now() - 3_600_000).toISOString(),
          until: new Date(Date.now() + 3_600_000).toISOString(),
          reason: 'the yearly audit',
        },
      ],
      process: rolling('0.1'),
    },
  });
}

async function harness(name: string) {
  const h = await startHarness(suite.env, suite.standin, config(suite.sshd.targetsFor(name)));
  suite.harnesses.push(h);
  return h;
}

async function startFromSlack(h: Harness, text: string, user = 'UALICE') {
  const before = roots(suite.standin).length;
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  const root = await waitFor(() => roots(suite.standin)[before], 10_000, `the root message of ${text}`);
  const rolloutId = (root.metadata as { event_payload: { rollout_id: string } }).event_payload.rollout_id;
  return { root, rolloutId };
}

const current = (m: StandinMessage) => suite.standin.message(m.channel, m.ts)!;
const inThread = (root: StandinMessage, re: RegExp, what: string) =>
  waitFor(() => threadOf(suite.standin, root).find((m) => re.test(textOf(m))), 20_000, what);
/** The root once its rendering carries the button (the root updater keeps it current). */
const rootWith = (root: StandinMessage, actionId: string) =>
  waitFor(
    () => findButton(current(root), actionId) && structuredClone(current(root)),
    15_000,
    `a root with ${actionId}`,
  );

describe('steering from Slack', () => {
  it('Pause and Resume on the root, /rollout window, and pause / resume typed in the thread', async () => {
    const h = await harness('steer');
    const { root, rolloutId } = await startFromSlack(h, 'web-farm v2');
    const withPause = await rootWith(root, ACTION_PAUSE);

    // A stranger's click is refused by the bot (and would be by the workflow): nothing changes.
    const eve = await h.click(withPause, ACTION_PAUSE, 'UEVE');
    expect(textOf(await h.waitResponse(eve.responseId))).toMatch(/You may not pause .*only the approvers of web-farm/);

    const bob = await h.click(withPause, ACTION_PAUSE, 'UBOB');
    expect(bob.ms).toBeLessThan(3000);
    expect(textOf(await h.waitResponse(bob.responseId))).toMatch(/Paused web-farm v2: targets in flight finish/);
    await inThread(root, /Paused\*? by <@UBOB>/, 'the pause in the thread');
    expect((await getSummary(suite.env.client, rolloutId)).paused).toMatchObject({ by: 'UBOB' });
    const withResume = await rootWith(root, ACTION_RESUME);
    expect(textOf(withResume)).toMatch(/Paused\*? by <@UBOB>/);
    expect(findButton(withResume, ACTION_PAUSE)).toBeUndefined();

    const window = await h.command(`window ${rolloutId} 3`, 'UBOB');
    expect(textOf(await h.waitResponse(window.responseId))).toMatch(/window set to 3/);
    await inThread(root, /Window set to 3\*? by <@UBOB>/, 'the window change in the thread');

    const alice = await h.click(withResume, ACTION_RESUME, 'UALICE');
    expect(textOf(await h.waitResponse(alice.responseId))).toMatch(/resumed: new targets start again/);
    await inThread(root, /Resumed\*? by <@UALICE>/, 'the resume in the thread');

    // Typed in the thread: the same Updates, the writer's refusals answered to them alone.
    expect(await h.say('resume', root.ts, 'UBOB')).toBe(200);
    const notPaused = await waitFor(
      () => suite.standin.thread(CHANNEL, root.ts).find((m) => m.ephemeral && /is not paused/.test(textOf(m))),
      15_000,
      'an ephemeral refusal in the thread',
    );
    expect(notPaused.ephemeralUser).toBe('UBOB');
    expect(await h.say('pause', root.ts, 'UBOB')).toBe(200);
    await waitForSummary(suite.env.client, rolloutId, (s) => s.paused !== undefined || s.status !== 'running');
    expect(await h.say('resume', root.ts, 'UALICE')).toBe(200);

    const result = await rolloutHandle(suite.env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.steering?.map((r) => `${r.kind} ${r.by}`)).toEqual(
      expect.arrayContaining(['paused UBOB', 'window UBOB', 'resumed UALICE']),
    );
  });

  it('a MaxParallelism variable on the deployable overrides the window, and the thread says so', async () => {
    const h = await harness('capped');
    const { root, rolloutId } = await startFromSlack(h, 'capped v2');
    const warning = await inThread(root, /MaxParallelism 2 overrides the window\*? of \*deploy\*/, 'the warning');
    expect(textOf(warning)).toMatch(/configured: 1/);
    const result = await rolloutHandle(suite.env.client, rolloutId).result();
    expect(result.summary.steps[0]).toMatchObject({ window: 2, configuredWindow: '1' });
  });

  it('a freeze refuses /rollout (nothing posted); an overrider with --override-freeze starts it and the thread says so', async () => {
    const h = await harness('frozen');
    const before = roots(suite.standin).length;
    const refused = await h.command('frozen v2', 'UALICE');
    const answer = textOf(await h.waitResponse(refused.responseId));
    expect(answer).toMatch(/frozen v2 was not started: frozen is frozen until .* UTC \(audit: the yearly audit\)/);
    expect(answer).toMatch(/UCAROL may override it with a reason/);
    const stranger = await h.command('frozen v2 --override-freeze let me', 'UALICE');
    expect(textOf(await h.waitResponse(stranger.responseId))).toMatch(/UALICE may not override it/);
    expect(roots(suite.standin).length).toBe(before);

    const { root, rolloutId } = await startFromSlack(h, 'frozen v2 --override-freeze hotfix for CVE-1', 'UCAROL');
    await inThread(root, /Deploy freeze overridden\*? \(audit\) by <@UCAROL>: hotfix for CVE-1/, 'the override');
    const result = await rolloutHandle(suite.env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.freezeOverride).toMatchObject({ by: 'UCAROL', reason: 'hotfix for CVE-1' });
  });
});
