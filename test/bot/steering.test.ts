// Steering from Slack end to end: the REAL Bolt app receiving signed requests, the Slack stand-in, real Temporal
// and real sshd targets (127.0.6.11–13): the root's Pause / Resume buttons, `/rollout window`, `pause` and
// `resume` typed in the thread, the MaxParallelism warning in the thread, and a freeze at request time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_PAUSE, ACTION_RESUME } from '../../activities/slack/blocks';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { getSummary, rolloutHandle } from '../../src/temporal/client';
import type { TargetPlan } from '../../domain/plan';
import { configFor, realTransports } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, findButton, roots, startHarness, textOf, threadOf, TOKEN, waitFor, type Harness } from './harness';

let sshd: SshdFixture;
let env: TemporalTestEnv;
let standin: SlackStandin;
let transports: ReturnType<typeof realTransports>;
const harnesses: Harness[] = [];

beforeAll(async () => {
  [sshd, env, standin] = await Promise.all([
    startSshd({ count: 3, baseAddress: '127.0.6.11', namePrefix: 'web' }),
    temporalTestEnv('bot-steer'),
    startSlackStandin({
      tokens: [TOKEN],
      users: ['UALICE', 'UBOB', 'UCAROL', 'UEVE'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
});

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
  for await (const wf of env.client.workflow.list({
    query: `TaskQueue = '${env.taskQueue}' AND ExecutionStatus = 'Running'`,
  })) {
    await env.client.workflow
      .getHandle(wf.workflowId)
      .terminate('test cleanup')
      .catch(() => undefined);
  }
});

afterAll(async () => {
  const quietly = (p: Promise<unknown> | undefined) => p?.catch((e: unknown) => console.warn(`cleanup: ${String(e)}`));
  for (const h of harnesses.splice(0)) await quietly(h.stop());
  await quietly(env?.close());
  await quietly(transports?.close());
  await quietly(sshd?.stop());
  // Every message the bot sent in this file passed the stand-in's Block Kit checks.
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
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
  const h = await startHarness(env, standin, config(sshd.targetsFor(name)));
  harnesses.push(h);
  return h;
}

async function startFromSlack(h: Harness, text: string, user = 'UALICE') {
  const before = roots(standin).length;
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  const root = await waitFor(() => roots(standin)[before], 10_000, `the root message of ${text}`);
  const rolloutId = (root.metadata as { event_payload: { rollout_id: string } }).event_payload.rollout_id;
  return { root, rolloutId };
}

const current = (m: StandinMessage) => standin.message(m.channel, m.ts)!;
const inThread = (root: StandinMessage, re: RegExp, what: string) =>
  waitFor(() => threadOf(standin, root).find((m) => re.test(textOf(m))), 20_000, what);
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
    expect((await getSummary(env.client, rolloutId)).paused).toMatchObject({ by: 'UBOB' });
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
      () => standin.thread(CHANNEL, root.ts).find((m) => m.ephemeral && /is not paused/.test(textOf(m))),
      15_000,
      'an ephemeral refusal in the thread',
    );
    expect(notPaused.ephemeralUser).toBe('UBOB');
    expect(await h.say('pause', root.ts, 'UBOB')).toBe(200);
    await waitForSummary(env.client, rolloutId, (s) => s.paused !== undefined || s.status !== 'running');
    expect(await h.say('resume', root.ts, 'UALICE')).toBe(200);

    const result = await rolloutHandle(env.client, rolloutId).result();
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
    const result = await rolloutHandle(env.client, rolloutId).result();
    expect(result.summary.steps[0]).toMatchObject({ window: 2, configuredWindow: '1' });
  });

  it('a freeze refuses /rollout (nothing posted); an overrider with --override-freeze starts it and the thread says so', async () => {
    const h = await harness('frozen');
    const before = roots(standin).length;
    const refused = await h.command('frozen v2', 'UALICE');
    const answer = textOf(await h.waitResponse(refused.responseId));
    expect(answer).toMatch(/frozen v2 was not started: frozen is frozen until .* UTC \(audit: the yearly audit\)/);
    expect(answer).toMatch(/UCAROL may override it with a reason/);
    const stranger = await h.command('frozen v2 --override-freeze let me', 'UALICE');
    expect(textOf(await h.waitResponse(stranger.responseId))).toMatch(/UALICE may not override it/);
    expect(roots(standin).length).toBe(before);

    const { root, rolloutId } = await startFromSlack(h, 'frozen v2 --override-freeze hotfix for CVE-1', 'UCAROL');
    await inThread(root, /Deploy freeze overridden\*? \(audit\) by <@UCAROL>: hotfix for CVE-1/, 'the override');
    const result = await rolloutHandle(env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.freezeOverride).toMatchObject({ by: 'UCAROL', reason: 'hotfix for CVE-1' });
  });
});
