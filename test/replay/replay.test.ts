// Replays every recorded history (test/replay/histories/, made by earlier code with record.ts) against today's
// workflow bundle: a change that issues different commands (timers, activities, child workflows) in a different
// order breaks replay of running workflows in production, and fails here. A control bundle with one extra timer
// proves the check can fail.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historiesIn } from './historyFiles';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const CONTROL_WORKFLOWS = fileURLToPath(new URL('./control/workflows.ts', import.meta.url));

// The control's nondeterminism errors are expected: keep the SDK's core from logging each one as a warning.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} } },
});

const histories = historiesIn(HISTORIES);
/** The bundle every test uses, built once from workflows/ by test/globalSetupBundle.ts. */
const workflowBundle = () => ({ code: readFileSync(inject('workflowBundlePath'), 'utf8') });
const typeOf = (h: (typeof histories)[number]) =>
  h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';

/** Replays each history on its own (a replay worker per file), so a failure names its file. */
async function replayAll(workflowBundle: { code: string }): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for (const h of histories) {
    results.set(
      h.name,
      await Worker.runReplayHistory({ workflowBundle }, h.history, h.workflowId).then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      ),
    );
  }
  return results;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

describe('replay of recorded histories', () => {
  it('covers every workflow type', () => {
    expect(new Set(histories.map(typeOf))).toEqual(
      new Set(['rolloutWorkflow', 'targetChainWorkflow', 'deployableWorkflow', 'targetLockWorkflow']),
    );
  });

  it('every recorded history replays against the current workflows', async () => {
    const results = await replayAll(workflowBundle());
    expect(results.size).toBe(histories.length);
    const failed = [...results].filter(([, e]) => e).map(([name, e]) => `${name}: ${e?.name}: ${e?.message}`);
    expect(failed).toEqual([]);
  });

  it('control: a rollout workflow that issues one extra timer fails to replay every rollout history', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: CONTROL_WORKFLOWS, logger: quietLogger });
    const results = await replayAll({ code });
    for (const h of histories) {
      const error = results.get(h.name);
      if (typeOf(h) === 'rolloutWorkflow') expect(error?.name, h.name).toBe('DeterminismViolationError');
      else expect(error, h.name).toBeUndefined();
    }
  });
});
