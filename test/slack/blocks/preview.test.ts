// Snapshot of the plan preview message and its Start button (value round trip, Block Kit limits).
import { describe, expect, it } from 'vitest';
import {
  ACTION_START_PREVIEWED,
  decodePreviewValue,
  encodePreviewValue,
  previewMessage,
} from '../../../activities/slack/blocks/index';
import type { PlanPreview, PreviewExecStep } from '../../../domain/preview';

const preview: PlanPreview = {
  deployable: 'web-farm',
  release: 'v2.1',
  requestedBy: 'UALICE',
  targets: ['web1', 'web2', 'web3', 'web4'],
  freezes: [
    {
      name: 'launch',
      from: '2026-03-05T00:00:00Z',
      until: '2026-03-06T00:00:00Z',
      reason: 'launch *day*',
      inForce: false,
    },
  ],
  steps: [
    {
      type: 'manual',
      name: 'go-ahead',
      runs: 'runs',
      instructions: 'check',
      approvers: { list: ['@ops'], anyone: false, members: ['UALICE', 'UBOB'], unresolved: [] },
      onTimeout: 'abort',
    },
    {
      type: 'rolling',
      name: 'deploy',
      runs: 'runs',
      targets: ['web1', 'web2', 'web3', 'web4'],
      skippedOn: [],
      window: 1,
      configuredWindow: 'ramp 1, 50%',
      stages: [
        { stage: 1, targets: ['web1'] },
        { stage: 2, targets: ['web2', 'web3'] },
        { stage: 3, targets: ['web4'] },
      ],
      between: { bakeSec: 60 },
      childSteps: [
        { name: 'install', runs: 'runs', skippedOn: [] },
        {
          name: 'check',
          runs: 'runs',
          condition: { expression: 'Output.install.Ok == "1"', verdict: 'run time' },
          skippedOn: [],
        },
      ],
    },
  ],
};

describe('plan preview message', () => {
  it('lists the steps, stages and approvers, with a confirmed Start button carrying the hash', () => {
    const m = previewMessage(preview, '0123456789abcdef');
    expect(m).toMatchSnapshot();
    const actions = m.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string }>;
    };
    expect(actions.elements[0]?.action_id).toBe(ACTION_START_PREVIEWED);
    expect(decodePreviewValue(actions.elements[0]?.value)).toEqual({
      deployable: 'web-farm',
      release: 'v2.1',
      hash: '0123456789abcdef',
    });
  });

  it('stays within Block Kit limits for 1,000 targets and 40 steps', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `web-${i}`);
    const big: PlanPreview = {
      ...preview,
      targets: names,
      steps: Array.from({ length: 40 }, (_, i) => ({
        ...(preview.steps[1] as PreviewExecStep),
        name: `step-${i}`,
        targets: names,
        stages: Array.from({ length: 100 }, (_, s) => ({ stage: s + 1, targets: names.slice(s * 10, s * 10 + 10) })),
      })),
    };
    const m = previewMessage(big, 'ffffffffffffffff');
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) if (b.type === 'section') expect(b.text?.text.length).toBeLessThanOrEqual(3000);
  });

  it('refuses values that are not a preview value', () => {
    expect(decodePreviewValue('{"preview":"web","release":"v1","hash":"xyz"}')).toBeUndefined();
    expect(
      decodePreviewValue(encodePreviewValue({ deployable: 'web', release: 'v1', hash: 'abcdefabcdefabcd' })),
    ).toEqual({
      deployable: 'web',
      release: 'v1',
      hash: 'abcdefabcdefabcd',
    });
    expect(() => encodePreviewValue({ deployable: '', release: 'v1', hash: 'abcdefabcdefabcd' })).toThrow(RangeError);
  });
});
