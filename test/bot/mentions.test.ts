// Decision cards mention who may answer, so that a pending decision notifies someone: the rollout's approvers
// on a failure card, a manual step's own approvers on its card, the requester when anyone may answer.
// The real bot (signed slash commands), the Slack stand-in, real Temporal, local targets.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DECIDE_RETRY, ACTION_MANUAL_PROCEED, BLOCK_DECISION_ASKING } from '../../activities/slack/blocks';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { loadConfigFile } from '../../src/config/load';
import { decide, rolloutHandle, waitUntilStarted } from '../../src/temporal/client';
import { localConfig } from '../cli/helpers';
import { realTransports } from '../support/rollouts';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, rolloutIdOf, roots, startHarness, textOf, threadOf, TOKEN, waitFor, type Harness } from './harness';

const failOnA = {
  type: 'rolling',
  name: 'deploy',
  window: 1,
  childSteps: [{ name: 'install', script: '[ #{Machine.Name} != a ] || exit 4' }],
};
const fixture = localConfig(
  {
    guarded: {
      targets: ['tag:web'],
      starters: ['UALICE'],
      approvers: ['UBOB', 'UCAROL'],
      process: [failOnA, { type: 'manual', name: 'verify', instructions: 'Look.', approvers: ['UDAVE'] }],
    },
    open: { targets: ['tag:web'], process: [failOnA] },
  },
  ['a', 'b'],
);

let env: TemporalTestEnv;
let standin: SlackStandin;
let h: Harness;
let transports: ReturnType<typeof realTransports>;

beforeAll(async () => {
  [env, standin] = await Promise.all([
    temporalTestEnv('mentions'),
    startSlackStandin({
      tokens: [TOKEN],
      users: ['UALICE', 'UBOB', 'UCAROL', 'UDAVE'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
  h = await startHarness(env, standin, loadConfigFile(fixture.configPath));
});

afterAll(async () => {
  await h?.stop();
  await env?.close();
  await transports?.close();
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

async function start(text: string, user = 'UALICE') {
  const before = roots(standin).length;
  expect((await h.command(text, user)).status).toBe(200);
  const root = await waitFor(() => roots(standin)[before], 10_000, `the root of ${text}`);
  const rolloutId = rolloutIdOf(root);
  await waitUntilStarted(env.client, rolloutId, 100, AbortSignal.timeout(10_000));
  return { root, rolloutId };
}

const card = (root: StandinMessage, actionId: string) =>
  waitFor(() => threadOf(standin, root).find((m) => textOf(m).includes(actionId)), 30_000, `a card with ${actionId}`);

const asking = (m: StandinMessage) =>
  JSON.stringify((m.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === BLOCK_DECISION_ASKING));

describe('decision cards mention who may answer', () => {
  it("a failure card mentions the rollout's approvers; a manual step's card its own approvers", async () => {
    const { root, rolloutId } = await start('guarded v1');
    const failure = await card(root, ACTION_DECIDE_RETRY);
    expect(asking(failure)).toContain('Waiting for <@UBOB>, <@UCAROL>');
    expect(failure.text).toMatch(/<@UBOB>, <@UCAROL>$/); // the notification's text
    expect(asking(failure)).not.toContain('UALICE');

    const s = await waitForSummary(env.client, rolloutId, (x) => x.pendingDecisions.length === 1);
    expect((await decide(env.client, rolloutId, s.pendingDecisions[0]!.id, 'ignore', 'UBOB')).outcome).toBe('accepted');
    const manual = await card(root, ACTION_MANUAL_PROCEED);
    expect(asking(manual)).toContain('Waiting for <@UDAVE>');
    expect(asking(manual)).not.toContain('UBOB');
    const m = await waitForSummary(env.client, rolloutId, (x) => x.pendingDecisions[0]?.kind === 'manual');
    expect((await decide(env.client, rolloutId, m.pendingDecisions[0]!.id, 'proceed', 'UDAVE')).outcome).toBe(
      'accepted',
    );
    expect((await rolloutHandle(env.client, rolloutId).result()).status).toBe('succeeded');
  });

  it('when anyone may answer, the card mentions the requester', async () => {
    const { root, rolloutId } = await start('open v1', 'UCAROL');
    const failure = await card(root, ACTION_DECIDE_RETRY);
    expect(asking(failure)).toContain('Waiting for <@UCAROL>');
    const s = await waitForSummary(env.client, rolloutId, (x) => x.pendingDecisions.length === 1);
    await decide(env.client, rolloutId, s.pendingDecisions[0]!.id, 'fail', 'UCAROL');
    expect((await rolloutHandle(env.client, rolloutId).result()).status).toBe('failed');
  });
});
