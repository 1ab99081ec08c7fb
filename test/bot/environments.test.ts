// Environments, promotion and four eyes through the REAL Bolt app receiving signed requests, the Slack stand-in,
// real Temporal and real sshd targets (staging: web1; production: web2, web3, posted in their own channel).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_MANUAL_PROCEED } from '../../activities/slack/blocks';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { rolloutHandle, waitUntilStarted } from '../../src/temporal/client';
import { getReleaseHistory } from '../../src/temporal/deployables';
import type { TargetPlan } from '../../domain/plan';
import { configFor, readTargetFile, realTransports } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, rolloutIdOf, roots, startHarness, textOf, threadOf, TOKEN, waitFor, type Harness } from './harness';

const PROD_CHANNEL = 'CPROD1';

let sshd: SshdFixture;
let env: TemporalTestEnv;
let standin: SlackStandin;
let transports: ReturnType<typeof realTransports>;
let h: Harness;
let envTargets: TargetPlan[] = [];

beforeAll(async () => {
  [sshd, env, standin] = await Promise.all([
    startSshd({ count: 3, baseAddress: '127.0.25.21', namePrefix: 'web' }),
    temporalTestEnv('bot-environments'),
    startSlackStandin({
      tokens: [TOKEN],
      users: ['UALICE', 'UBOB', 'UEVE'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      channels: [
        { id: CHANNEL, name: 'deploys' },
        { id: PROD_CHANNEL, name: 'prod-deploys' },
      ],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
  const targets = sshd.targetsFor('environments').map((t, i) => ({ ...t, tags: [i === 0 ? 'staging' : 'production'] }));
  const cfg = configFor(targets, {
    web: {
      approvers: ['UALICE', 'UBOB'],
      environments: {
        staging: { targets: ['tag:staging'] },
        production: { targets: ['tag:production'], channel: PROD_CHANNEL, fourEyes: true },
      },
      lifecycle: ['staging', 'production'],
      process: [{ name: 'install', script: 'printf "%s %s" #{Release} #{Environment} > version' }],
    },
  });
  h = await startHarness(env, standin, cfg);
  envTargets = targets;
});

afterAll(async () => {
  const quietly = (p: Promise<unknown> | undefined) => p?.catch((e: unknown) => console.warn(`cleanup: ${String(e)}`));
  await quietly(h?.stop());
  await quietly(env?.close());
  await quietly(transports?.close());
  await quietly(sshd?.stop());
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
});

const targets = () => envTargets;

async function ask(text: string, user = 'UALICE'): Promise<StandinMessage> {
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3000);
  return h.waitResponse(r.responseId);
}

describe('environments through the bot', () => {
  it('production refuses v2 before staging; promote rolls it on; the start needs someone else’s approval', async () => {
    // Not in staging yet: refused by the queue, saying what is missing; nothing ran.
    const early = await ask('web v2 production');
    expect(textOf(early)).toMatch(/v2 has not succeeded in staging/);
    expect(targets().map((t) => readTargetFile(t, 'version'))).toEqual([undefined, undefined, undefined]);
    // No environment named: a clear error naming them.
    expect(textOf(await ask('web v2'))).toMatch(/web has environments \(staging, production\): say which one/);
    expect(textOf(await ask('promote web v2'))).toMatch(/has not succeeded in any environment of web yet/);

    await h.command('web v2 staging');
    const stagingRoot = await waitFor(() => roots(standin).find((m) => rolloutIdOf(m).includes('web-staging-v2')));
    await waitUntilStarted(env.client, rolloutIdOf(stagingRoot), 100);
    expect((await rolloutHandle(env.client, rolloutIdOf(stagingRoot)).result()).status).toBe('succeeded');
    expect(readTargetFile(targets()[0]!, 'version')).toBe('v2 staging');
    for (let i = 0; i < 100; i++) {
      if ((await getReleaseHistory(env.client, env.taskQueue, 'web'))?.releases.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // Promote: production, posted in production's channel, starting with a four-eyes approval.
    // The refused request left its root (marked not started) in production's channel: the promotion posts another.
    const before = roots(standin, PROD_CHANNEL).length;
    expect(before).toBe(1);
    const promoted = await h.command('promote web v2', 'UALICE');
    expect(promoted.ms).toBeLessThan(3000);
    const prodRoot = await waitFor(() => roots(standin, PROD_CHANNEL)[before], 30_000, 'a root in production');
    const rolloutId = rolloutIdOf(prodRoot);
    expect(rolloutId).toMatch(/^rollout-web-production-v2-/);
    const card = structuredClone(
      await waitFor(
        () => threadOf(standin, prodRoot).find((x) => textOf(x).includes(ACTION_MANUAL_PROCEED)),
        30_000,
        'the start approval card',
      ),
    );
    // The card names who may answer: the approvers but the starter, and says why.
    expect(textOf(card)).toContain('<@UBOB> (four eyes: <@UALICE> started this rollout and may not approve it)');
    expect(textOf(card)).not.toMatch(/Waiting for <@UALICE>/);

    const own = await h.click(card, ACTION_MANUAL_PROCEED, 'UALICE');
    expect(own.ms).toBeLessThan(3000);
    expect(textOf(await h.waitResponse(own.responseId))).toMatch(
      /four eyes: UALICE started rollout .* may not approve/,
    );
    expect(readTargetFile(targets()[1]!, 'version')).toBeUndefined();

    const bob = await h.click(card, ACTION_MANUAL_PROCEED, 'UBOB');
    expect(bob.status).toBe(200);
    await waitUntilStarted(env.client, rolloutId, 100);
    expect((await rolloutHandle(env.client, rolloutId).result()).status).toBe('succeeded');
    expect(targets().map((t) => readTargetFile(t, 'version'))).toEqual([
      'v2 staging',
      'v2 production',
      'v2 production',
    ]);
  });
});
