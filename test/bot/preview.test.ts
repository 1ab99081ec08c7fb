// `/rollout <deployable> <release> --plan` through the REAL Bolt app (signed requests), the Slack stand-in, real
// Temporal and real sshd targets: the preview lists the target order and ramp stages and starts nothing; Start
// runs that plan (the timestamps on the targets follow its stages); Start after a config edit refuses.
import { describe, expect, it } from 'vitest';
import { ACTION_START_PREVIEWED } from '../../activities/slack/blocks';
import type { StandinMessage } from '../../dev/standin/server';
import type { TargetPlan } from '../../domain/plan';
import { rolloutHandle } from '../../src/temporal/client';
import { configFor, readTargetFile, timeline } from '../support/rollouts';
import { rolloutIdOf, roots, startHarness, textOf, waitFor, type Harness } from './harness';
import { botSuite } from './suite';

const suite = botSuite({
  name: 'bot-preview',
  sshd: { count: 4, baseAddress: '127.0.21.11' },
  users: ['UALICE', 'UBOB', 'UEVE'],
});

// Each target notes when its chain started and ended (nanoseconds), then writes the release.
const SCRIPT =
  'echo "start #{Machine.Name} $(date +%s%N)" >> timeline; sleep 0.3; ' +
  'echo "end #{Machine.Name} $(date +%s%N)" >> timeline; printf %s #{Release} > version';

function config(targets: TargetPlan[]) {
  return configFor(targets, {
    prev: {
      targets: ['tag:web'],
      starters: ['UALICE', 'UBOB'],
      process: [{ type: 'rolling', name: 'deploy', window: [1, 2], childSteps: [{ name: 'install', script: SCRIPT }] }],
    },
  });
}

async function ask(h: Harness, text: string, user = 'UALICE'): Promise<StandinMessage> {
  const r = await h.command(text, user);
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3000);
  const answer = await h.waitResponse(r.responseId);
  expect(answer.ephemeral).toBe(true);
  return answer;
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

describe('/rollout <deployable> <release> --plan', () => {
  it('previews the order and stages, starts nothing; Start runs that plan; Start after a config edit refuses', async () => {
    const targets = suite.sshd.targetsFor('preview');
    const cfg = config(targets);
    const h = await startHarness(suite.env, suite.standin, cfg);
    suite.harnesses.push(h);
    const names = targets.map((t) => t.name);

    const preview = await ask(h, 'prev v2 --plan');
    const text = textOf(preview);
    expect(text).toContain(`targets (4, in order): ${names.join(', ')}`);
    expect(text).toContain('window: ramp 1, 2: 3 stages');
    expect(text).toContain(`stage 1: ${names[0]}`);
    expect(text).toContain(`stage 2: ${names[1]}, ${names[2]}`);
    expect(text).toContain(`stage 3: ${names[3]}`);
    // Nothing runs until Start: no root message, no version on any target.
    expect(roots(suite.standin)).toHaveLength(0);
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual([undefined, undefined, undefined, undefined]);

    // Someone who may not start it gets no preview either.
    expect(textOf(await ask(h, 'prev v2 --plan', 'UEVE'))).toMatch(/you may not roll out prev/);

    // Start: the same path as a request (root message, queue), and the rollout follows the previewed stages.
    const click = await h.click(preview, ACTION_START_PREVIEWED, 'UALICE');
    expect(click.status).toBe(200);
    expect(click.ms).toBeLessThan(3000);
    const root = await waitFor(() => roots(suite.standin)[0], 15_000, 'the root message of the started preview');
    expect(textOf(root)).toMatch(/prev v2/);
    expect(await resultOf(rolloutIdOf(root))).toBe('succeeded');
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual(['v2', 'v2', 'v2', 'v2']);
    const [t1, t2, t3, t4] = targets.map((t) => timeline(t)) as Array<{ start: number; end: number }>;
    expect(t1!.end).toBeLessThan(Math.min(t2!.start, t3!.start));
    expect(Math.max(t2!.end, t3!.end)).toBeLessThan(t4!.start);

    // A new preview, then the config changes (the window): its Start refuses and nothing is posted.
    const second = await ask(h, 'prev v3 --plan', 'UBOB');
    const step = cfg.raw.deployables.prev!.process[0] as { window?: unknown };
    step.window = [2];
    const before = roots(suite.standin).length;
    const stale = await h.click(second, ACTION_START_PREVIEWED, 'UBOB');
    expect(stale.ms).toBeLessThan(3000);
    expect(textOf(await h.waitResponse(stale.responseId))).toMatch(
      /Not started: the config of prev changed since this preview/,
    );
    expect(roots(suite.standin).length).toBe(before);
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual(['v2', 'v2', 'v2', 'v2']);

    // Control: a preview of the edited config starts.
    const fresh = await ask(h, 'prev v3 --plan', 'UBOB');
    expect(textOf(fresh)).toContain('window: ramp 2: 2 stages');
    await h.click(fresh, ACTION_START_PREVIEWED, 'UBOB');
    const root3 = await waitFor(() => roots(suite.standin)[before], 15_000, 'the root of the fresh preview');
    expect(await resultOf(rolloutIdOf(root3))).toBe('succeeded');
    expect(targets.map((t) => readTargetFile(t, 'version'))).toEqual(['v3', 'v3', 'v3', 'v3']);
  });
});
