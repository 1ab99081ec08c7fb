// Snapshots of the steering messages: the root's Pause / Resume buttons, paused and frozen rollouts, ramps and
// overrides in the step lines, and the thread replies for each steering record and ramp stage (fixed `now`).
import { describe, expect, it } from 'vitest';
import {
  ACTION_CANCEL,
  ACTION_PAUSE,
  ACTION_RESUME,
  decodeRolloutValue,
  rampStage,
  rootMessage,
  statusReply,
  steered,
  stepStarted,
  type SlackMessage,
} from '../../../activities/slack/blocks/index';
import { validateMessage } from '../../../dev/standin/blockKit';
import type { SteeringRecord } from '../../../workflows/steeringMessages';
import { counts, NOW, runningSummary, step, succeededSummary } from './fixtures';

const steerable = () => runningSummary({ steerable: true, pendingDecisions: [] });
const buttons = (m: SlackMessage) =>
  m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : '')) : []));

describe('root message steering buttons', () => {
  it('a running rollout that can be steered has Pause beside Cancel; the button carries the rollout', () => {
    const m = rootMessage(steerable(), { now: NOW, showCancel: true, showSteering: true });
    expect(m.blocks.at(-1)).toMatchSnapshot();
    expect(buttons(m)).toEqual([ACTION_PAUSE, ACTION_CANCEL]);
    const pause = JSON.stringify(m.blocks.at(-1)).match(/"value":"((?:[^"\\]|\\.)*)"/)?.[1];
    expect(decodeRolloutValue(JSON.parse(`"${pause}"`))).toEqual({
      rolloutId: 'rollout-web-farm-20250304-140000',
      deployable: 'web-farm',
      release: 'v2',
    });
    expect(validateMessage(m)).toEqual([]);
  });

  it('paused: Resume instead of Pause, and the status says who paused, since when and why', () => {
    const s = { ...steerable(), paused: { by: 'U9BOB', at: '2025-03-04T14:15:00Z', reason: 'db <migration>' } };
    const m = rootMessage(s, { now: NOW, showCancel: true, showSteering: true });
    expect(buttons(m)).toEqual([ACTION_RESUME, ACTION_CANCEL]);
    expect(m.blocks[1]).toMatchSnapshot();
    expect(m.text).toContain('web-farm v2: paused');
  });

  it('no steering buttons unless asked, on a rollout that cannot be steered, or once it stops or ends', () => {
    expect(buttons(rootMessage(steerable(), { now: NOW, showCancel: true }))).toEqual([ACTION_CANCEL]);
    expect(buttons(rootMessage(runningSummary(), { now: NOW, showSteering: true }))).toEqual([]);
    const stopping = { ...steerable(), stopReason: 'cancelled by U1' };
    expect(buttons(rootMessage(stopping, { now: NOW, showCancel: true, showSteering: true }))).toEqual([]);
    expect(buttons(rootMessage(succeededSummary(), { now: NOW, showSteering: true }))).toEqual([]);
  });

  it('frozen, with a window override, an overridden freeze and a ramp in the step lines', () => {
    const s = {
      ...steerable(),
      frozen: { freeze: 'year-end', reason: 'change freeze', until: '2026-01-05T00:00:00.000Z' },
      windowOverride: { window: 3, by: 'MaxParallelism', at: '2025-03-04T14:00:00Z' },
      freezeOverride: { by: 'U1CTO', reason: 'hotfix CVE-1', at: '2025-03-04T14:00:00Z', freezes: ['weekend'] },
      steps: [
        step({
          name: 'canary',
          type: 'rolling',
          state: 'running',
          window: 2,
          ramp: { windows: '1, 2, 50%', stage: 2, stages: 4, waiting: { kind: 'bake', until: '2025-03-04T14:25:00Z' } },
          counts: counts({ succeeded: 3, pending: 5 }),
        }),
        step({ name: 'deploy', type: 'rolling', state: 'pending', window: 3, configuredWindow: '25%' }),
      ],
    };
    const m = statusReply(s, NOW);
    expect(m).toMatchSnapshot();
    expect(m.text).toContain('frozen');
  });
});

describe('steering thread replies', () => {
  const at = '2025-03-04T14:03:00Z';
  const records: SteeringRecord[] = [
    { kind: 'paused', by: 'U9BOB', at, reason: 'db migration' },
    { kind: 'resumed', by: 'cli:alice', at },
    { kind: 'window', by: 'U9BOB', at, window: 4, previous: 2 },
    { kind: 'maxParallelism', by: 'MaxParallelism', at, window: 3, step: 'deploy', configured: 'ramp 1, 2, 50%' },
    { kind: 'frozen', by: 'freeze', at, freeze: 'year-end', reason: 'change <freeze>', until: '2026-01-05T00:00:00Z' },
    { kind: 'thawed', by: 'freeze', at, freeze: 'year-end' },
    { kind: 'freezeOverridden', by: 'U1CTO', at, reason: 'hotfix', freezes: ['year-end'] },
  ];
  it.each(records.map((r) => [r.kind, r] as const))('%s', (_, r) => {
    const m = steered(r);
    expect(m).toMatchSnapshot();
    expect(validateMessage(m)).toEqual([]);
  });

  it('ramp stages and the step that announces its ramp', () => {
    expect(rampStage({ step: 'deploy', stage: 2, stages: 4, window: 2, phase: 'started' })).toMatchSnapshot();
    expect(
      rampStage({
        step: 'deploy',
        stage: 3,
        stages: 4,
        window: 4,
        phase: 'baking',
        bakeSec: 300,
        until: '2025-03-04T14:25:00Z',
      }),
    ).toMatchSnapshot();
    const m = stepStarted('deploy', ['web1', 'web2', 'web3', 'web4', 'web5', 'web6', 'web7', 'web8'], 1, {
      windows: '1, 2, 50%',
      stages: [1, 2, 4, 1],
      bakeSec: 300,
      manual: true,
    });
    expect(m).toMatchSnapshot();
    expect(m.text).toBe(
      'Step deploy started on 8 targets, ramped 1, 2, 50% (stages of 1, 2, 4, 1; 300 s bake and a manual Proceed between stages)',
    );
  });
});
