// Snapshots pinning each message for representative inputs (fixed `now`).
import { describe, expect, it } from 'vitest';
import {
  decisionOutcome,
  ephemeral,
  failureCard,
  help,
  manualCard,
  manualOutcome,
  rolloutEnded,
  rootMessage,
  statusReply,
  stepStarted,
} from '../../../activities/slack/blocks/index';
import {
  cancelledSummary,
  failedSummary,
  failureDecision,
  manualDecision,
  NOW,
  runningSummary,
  succeededSummary,
} from './fixtures';

const UI = 'http://localhost:8233/';

describe('rootMessage', () => {
  it('the Temporal link names the rollout’s namespace', () => {
    const m = rootMessage(runningSummary(), { now: NOW, temporalUiUrl: UI, temporalNamespace: 'prod ops' });
    expect(JSON.stringify(m.blocks)).toContain('http://localhost:8233/namespaces/prod%20ops/workflows/');
    expect(JSON.stringify(rootMessage(runningSummary(), { now: NOW, temporalUiUrl: UI }).blocks)).toContain(
      '/namespaces/default/workflows/',
    );
  });

  it('running: progress, step counts, in flight, pending decision, Temporal link', () => {
    const m = rootMessage(runningSummary(), { now: NOW, temporalUiUrl: UI });
    expect(m).toMatchSnapshot();
    const status = JSON.stringify(m.blocks[1]);
    expect(status).toContain('Started by <@U123ABC> · 20m 00s elapsed');
    expect(status).toContain('▰▰▰▰▰▰▱▱▱▱ 12/20 targets in *deploy*');
    expect(status).toContain('1 decision waiting');
    expect(JSON.stringify(m.blocks)).toContain(
      '<http://localhost:8233/namespaces/default/workflows/rollout-web-farm-20250304-140000|Open in Temporal UI>',
    );
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: 'web-farm v2' } });
  });

  it('running with a Cancel button when asked', () => {
    const m = rootMessage(runningSummary(), { now: NOW, showCancel: true });
    expect(m.blocks.at(-1)).toMatchSnapshot();
    expect(JSON.stringify(m.blocks)).not.toContain('Temporal UI');
    expect(
      rootMessage(succeededSummary(), { now: NOW, showCancel: true }).blocks.some((b) => b.type === 'actions'),
    ).toBe(false);
  });

  it('succeeded, started from the CLI', () => {
    const m = rootMessage(succeededSummary(), { now: NOW });
    expect(m).toMatchSnapshot();
    expect(JSON.stringify(m.blocks[1])).toContain('Started by cli:alice · took 42m 07s');
  });

  it('failed: stop reason and first failure', () => {
    expect(rootMessage(failedSummary(), { now: NOW, temporalUiUrl: UI })).toMatchSnapshot();
  });

  it('cancelled: the stop reason is escaped', () => {
    const m = rootMessage(cancelledSummary(), { now: NOW });
    expect(m).toMatchSnapshot();
    expect(JSON.stringify(m.blocks)).toContain('wrong &lt;release&gt; &amp; wrong day');
  });

  it('aborted', () => {
    const s = {
      ...failedSummary(),
      status: 'aborted' as const,
      stopReason: 'verify: aborted by U9',
      failure: undefined,
    };
    expect(rootMessage(s, { now: NOW }).blocks[1]).toMatchSnapshot();
  });
});

describe('decision cards', () => {
  it('failureCard: facts, tail, who may answer (mentioned), four buttons with confirms on Fail and Exclude', () => {
    const m = failureCard('rollout-1', failureDecision(), ['U1', 'U2']);
    expect(m).toMatchSnapshot();
    // The fallback text is what a notification shows: the mentions are in it.
    expect(m.text).toMatch(/<@U1>, <@U2>$/);
  });

  it('failureCard without anyone to mention has no waiting-for line', () => {
    const m = failureCard('rollout-1', failureDecision());
    expect(JSON.stringify(m)).not.toContain('Waiting for');
    expect(JSON.stringify(failureCard('rollout-1', failureDecision(), ['U1']))).toContain('Waiting for <@U1>');
  });

  it('failureCard with a run-once outcome says why there is no exit code instead of "none"', () => {
    const field = (outcome?: 'unknown' | 'not-started') =>
      JSON.stringify(
        failureCard('rollout-1', { ...failureDecision(), exitCode: null, ...(outcome ? { outcome } : {}) }),
      );
    expect(field('unknown')).toContain('*Exit code*\\nunknown (contact lost while it ran)');
    expect(field('not-started')).toContain('*Exit code*\\nnone (it did not start)');
    expect(field()).toContain('*Exit code*\\nnone');
    expect(field()).not.toContain('contact lost');
  });

  it('mentions: Slack ids as <@…>, CLI identities plainly and escaped, at most 10 then a count', () => {
    const many = Array.from({ length: 13 }, (_, i) => `U${i + 10}`);
    const m = manualCard('rollout-1', manualDecision(), ['cli:ops<x>', 'W123', ...many, 'U10']);
    const asking = m.blocks.find((b) => b.block_id === 'rollout.decision.asking');
    expect(asking).toMatchSnapshot();
    expect(JSON.stringify(asking)).toContain('cli:ops&lt;x&gt;, <@W123>, <@U10>');
    expect(JSON.stringify(asking)).toContain('<@U17> +5 more');
  });

  it('failureCard of a script that never ran says, before the click, what Ignore will record', () => {
    const m = failureCard(
      'rollout-1',
      failureDecision({ exitCode: null, notRun: true, tail: 'connection-refused: web3: connection refused' }),
    );
    expect(m.text).toContain('the script did not run');
    expect(m).toMatchSnapshot();
  });

  it('failureCard offers only the choices the decision allows', () => {
    const m = failureCard(
      'rollout-1',
      failureDecision({ choices: ['fail', 'retry'], target: undefined, exitCode: null, tail: '' }),
    );
    const actions = m.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchSnapshot();
    expect(JSON.stringify(m.blocks)).toContain('_No output captured._');
  });

  it('decisionOutcome: the same facts, no buttons, who chose what when', () => {
    const m = decisionOutcome(
      'rollout-1',
      failureDecision({ answer: { choice: 'retry', by: 'U1', at: '2025-03-04T14:03:41Z' } }),
    );
    expect(m).toMatchSnapshot();
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(m.blocks.at(-1))).toContain('*Retry* chosen by <@U1> at 14:03 UTC');
  });

  it('decisionOutcome of a decision the rollout answered itself', () => {
    const m = decisionOutcome(
      'rollout-1',
      failureDecision({ answer: { choice: 'fail', by: 'rollout', at: '2025-03-04T14:05:00Z' } }),
    );
    expect(m.blocks.at(-1)).toMatchSnapshot();
  });

  it('manualCard: instructions, who may answer (mentioned), Proceed / Abort (Abort confirmed)', () => {
    expect(manualCard('rollout-1', manualDecision(), ['U9', 'cli:bob'])).toMatchSnapshot();
  });

  it('manual outcome, chosen by a person and on timeout', () => {
    const byUser = manualOutcome(
      'rollout-1',
      manualDecision({ answer: { choice: 'proceed', by: 'cli:bob', at: '2025-03-04T14:12:00Z' } }),
    );
    expect(byUser).toMatchSnapshot();
    const onTimeout = decisionOutcome(
      'rollout-1',
      manualDecision({ answer: { choice: 'abort', by: 'timeout', at: '2025-03-04T15:10:00Z' } }),
    );
    expect(onTimeout.blocks.at(-1)).toMatchSnapshot();
  });
});

describe('thread events', () => {
  it('stepStarted', () => {
    expect(stepStarted('deploy', ['web1', 'web2', 'web3'], 1)).toMatchSnapshot();
    expect(stepStarted('notify', [])).toMatchSnapshot();
    const many = stepStarted(
      'deploy',
      Array.from({ length: 1000 }, (_, i) => `web${i}`),
      50,
    );
    expect(JSON.stringify(many.blocks)).toContain('1000 targets, 50 at a time');
    expect(JSON.stringify(many.blocks)).toContain('web19 +980 more');
  });

  it('rolloutEnded for each way a rollout ends', () => {
    expect(rolloutEnded(succeededSummary(), NOW)).toMatchSnapshot();
    expect(rolloutEnded(failedSummary(), NOW)).toMatchSnapshot();
    expect(rolloutEnded(cancelledSummary(), NOW)).toMatchSnapshot();
    const aborted = {
      ...failedSummary(),
      status: 'aborted' as const,
      stopReason: 'verify: aborted by U9',
      failure: undefined,
    };
    expect(rolloutEnded(aborted, NOW).text).toBe('web-farm v2 aborted (took 5m 30s)');
  });

  it('rolloutEnded counts deployed, excluded and not-run targets', () => {
    const ok = { ...succeededSummary(), targetOutcomes: { deployed: 3, excluded: 1, notRun: 0 } };
    expect(rolloutEnded(ok, NOW)).toMatchSnapshot();
    const nowhere = {
      ...failedSummary(),
      stopReason: 'deploy: nothing deployed (every target was excluded or could not be reached)',
      targetOutcomes: { deployed: 0, excluded: 2, notRun: 1 },
    };
    expect(JSON.stringify(rolloutEnded(nowhere, NOW).blocks[0])).toContain('0 deployed · 2 excluded · 1 not run');
  });

  it('statusReply lists the pending decisions', () => {
    const s = runningSummary({ pendingDecisions: [failureDecision(), manualDecision()] });
    expect(statusReply(s, NOW)).toMatchSnapshot();
  });

  it('ephemeral escapes unless told the text is mrkdwn', () => {
    expect(ephemeral('Unknown deployable <web-farm> & co')).toMatchSnapshot();
    expect(ephemeral('Started, see <#C1>', { mrkdwn: true }).blocks).toEqual([
      { type: 'section', block_id: 'rollout.ephemeral', text: { type: 'mrkdwn', text: 'Started, see <#C1>' } },
    ]);
  });

  it('help', () => {
    const m = help(['web-farm', 'api', '<evil>']);
    expect(m).toMatchSnapshot();
    expect(JSON.stringify(m.blocks)).toContain('`/rollout &lt;deployable&gt; &lt;release&gt;`');
    expect(help([])).toMatchSnapshot();
  });
});
