// Every message, rendered from the worst inputs, must be accepted by the Block Kit stand-in validator.
import { describe, expect, it } from 'vitest';
import {
  decisionOutcome,
  decodeButtonValue,
  decodeRolloutValue,
  ephemeral,
  failureCard,
  help,
  manualCard,
  rolloutEnded,
  rootMessage,
  statusReply,
  stepStarted,
  type SlackMessage,
} from '../../../activities/slack/blocks/index';
import { validateMessage } from '../../../dev/standin/blockKit';
import { failureDecision, HOSTILE, hugeSummary, manualDecision, NOW } from './fixtures';

interface Found {
  mrkdwn: string[];
  plain: string[];
  buttons: { action_id?: string; value?: string }[];
}

function walk(v: unknown, found: Found): Found {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, found);
  } else if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') found.mrkdwn.push(o.text);
    if (o.type === 'plain_text' && typeof o.text === 'string') found.plain.push(o.text);
    if (o.type === 'button') found.buttons.push(o as Found['buttons'][number]);
    for (const x of Object.values(o)) walk(x, found);
  }
  return found;
}

/** Checks what the validator cannot: escaping, unique action ids, button values that decode. */
function check(label: string, m: SlackMessage, rolloutId: string): void {
  expect(validateMessage(m), label).toEqual([]);
  expect(m.blocks.length, label).toBeLessThanOrEqual(50);
  expect(m.text.length, label).toBeGreaterThan(0);
  expect(m.text.length, label).toBeLessThanOrEqual(40_000);
  const found = walk(m.blocks, { mrkdwn: [], plain: [], buttons: [] });
  const ids = found.buttons.map((b) => b.action_id);
  expect(new Set(ids).size, label).toBe(ids.length);
  for (const b of found.buttons) {
    expect(b.value, label).toBeDefined();
    const decoded = decodeButtonValue(b.value) ?? decodeRolloutValue(b.value);
    expect(decoded, label).toBeDefined();
    if (typeof decoded === 'object') expect(decoded.rolloutId).toBe(rolloutId);
  }
  // The only `<` left in mrkdwn are the mentions and links the builders make themselves.
  for (const t of [...found.mrkdwn, m.text]) {
    expect(t, label).not.toContain('<script');
    expect(t, label).not.toMatch(/<(?!@[UW][A-Z0-9]+>|https?:\/\/[^|>]+\|[^>]+>)/);
    expect(t.replace(/&(amp|lt|gt);/g, ''), label).not.toMatch(/&(?![a-z]+;)/);
  }
}

describe('Block Kit limits with the worst inputs', () => {
  const s = hugeSummary();
  const hugeTail = Array.from({ length: 2000 }, (_, i) => `${i} ${HOSTILE} \`\`\` line`).join('\n');
  const bigInstructions = Array.from({ length: 200 }, (_, i) => `${i}. ${HOSTILE} check the dashboard`).join('\n');

  it('the inputs are as big as promised', () => {
    expect(hugeTail.length).toBeGreaterThan(100_000);
    expect(bigInstructions.length).toBeGreaterThan(10_000);
    expect(s.steps).toHaveLength(20);
    expect(s.totalTargets).toBe(1000);
  });

  it('root message, status reply and end of rollout: 1,000 targets and 20 steps', () => {
    const ui = 'https://temporal.example.com';
    for (const showCancel of [false, true])
      check('root', rootMessage(s, { now: NOW, temporalUiUrl: ui, showCancel }), s.rolloutId);
    // Steered: Pause / Resume beside Cancel, and the hostile reason of a pause escaped in the status.
    const steered = { ...s, steerable: true, paused: { by: HOSTILE, at: '2025-03-04T00:00:00Z', reason: HOSTILE } };
    for (const r of [{ ...s, steerable: true }, steered])
      check('root steered', rootMessage(r, { now: NOW, showCancel: true, showSteering: true }), s.rolloutId);
    check(
      'root ended',
      rootMessage({ ...s, status: 'failed', endedAt: '2025-03-04T00:00:00Z' }, { now: NOW }),
      s.rolloutId,
    );
    check('status', statusReply(s, NOW), s.rolloutId);
    for (const status of ['succeeded', 'failed', 'cancelled', 'aborted'] as const) {
      check(`ended ${status}`, rolloutEnded({ ...s, status, endedAt: '2025-03-04T00:00:00Z' }, NOW), s.rolloutId);
    }
    const root = rootMessage(s, { now: NOW });
    const text = JSON.stringify(root.blocks);
    expect(text).toContain('more step');
    expect(text).toContain('+290 more');
  });

  it('failure card with a 100 kB tail keeps the end of the log', () => {
    const d = failureDecision({
      id: 'd'.repeat(300),
      step: HOSTILE.repeat(20),
      target: HOSTILE.repeat(20),
      childStep: HOSTILE.repeat(20),
      tail: hugeTail,
    });
    const card = failureCard(s.rolloutId, d);
    check('failure card', card, s.rolloutId);
    const tail = card.blocks.find((b) => b.block_id === 'rollout.decision.tail');
    const text = (tail as { text?: { text?: string } } | undefined)?.text?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text.startsWith('```\n… (')).toBe(true);
    expect(
      text.endsWith(
        '1999 &lt;script&gt;alert(1)&lt;/script&gt; *bold* &amp; &lt;@U999&gt; &lt;!channel&gt; `\u200b`\u200b` line\n```',
      ),
    ).toBe(true);
    check(
      'failure outcome',
      decisionOutcome(s.rolloutId, { ...d, answer: { choice: 'exclude', by: 'U1', at: NOW.toISOString() } }),
      s.rolloutId,
    );
  });

  it('manual card with 10 kB of instructions', () => {
    const d = manualDecision({ step: HOSTILE.repeat(20), instructions: bigInstructions });
    check('manual card', manualCard(s.rolloutId, d), s.rolloutId);
    check(
      'manual card, 60 kB',
      manualCard(s.rolloutId, { ...d, instructions: bigInstructions.repeat(6) }),
      s.rolloutId,
    );
    check(
      'manual outcome',
      decisionOutcome(s.rolloutId, { ...d, answer: { choice: 'abort', by: HOSTILE, at: 'not a time' } }),
      s.rolloutId,
    );
  });

  it('every decision choice gets its own action id and a value that decodes', () => {
    const card = failureCard('r1', failureDecision());
    const found = walk(card.blocks, { mrkdwn: [], plain: [], buttons: [] });
    expect(found.buttons.map((b) => b.action_id)).toEqual([
      'rollout.decide.fail',
      'rollout.decide.retry',
      'rollout.decide.ignore',
      'rollout.decide.exclude',
    ]);
    expect(found.buttons.map((b) => decodeButtonValue(b.value)?.choice)).toEqual([
      'fail',
      'retry',
      'ignore',
      'exclude',
    ]);
    const manual = walk(manualCard('r1', manualDecision()).blocks, { mrkdwn: [], plain: [], buttons: [] });
    expect(manual.buttons.map((b) => decodeButtonValue(b.value))).toEqual([
      { rolloutId: 'r1', decisionId: 'd2', choice: 'proceed' },
      { rolloutId: 'r1', decisionId: 'd2', choice: 'abort' },
    ]);
  });

  it('thread events, ephemeral and help with hostile and huge inputs', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `${HOSTILE}${i}${'x'.repeat(300)}`);
    check('step started', stepStarted(HOSTILE.repeat(40), names, 10), s.rolloutId);
    check('ephemeral', ephemeral(HOSTILE.repeat(2000)), s.rolloutId);
    check('ephemeral mrkdwn', ephemeral('x'.repeat(50_000), { mrkdwn: true }), s.rolloutId);
    check('help', help(names), s.rolloutId);
  });
});
