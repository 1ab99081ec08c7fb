// `scale.lean-starts` (workflows/rollout/steps.ts) is about promises: the SDK's promise hook records a
// source-mapped stack trace for every promise a workflow creates, and per target that was most of the rollout
// workflow's CPU. The same rollout (twelve targets, a rolling step that continues as new in its middle, a failure
// answered Ignore, then a script step) was recorded before the patch (`inline-step-continue.runN.json`) and after it
// (`lean-step-continue.runN.json`). Replaying both counts the promises the workflow code creates: replay runs
// workflows in this thread (the replay worker's debug mode), where a promise made inside the workflow's VM context
// has that context's Promise as its constructor. The histories are fixed, so the counts are exact.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historiesIn } from './historyFiles';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const TARGETS = 12;
/** Each target runs two exec steps (the rolling step, then the script step). */
const STEPS_PER_TARGET = 2;

/** Promises created by workflow code while the runs of `prefix` replay, in order. */
async function workflowPromises(prefix: string): Promise<number> {
  const runs = historiesIn(HISTORIES).filter((h) => h.name.startsWith(`${prefix}.run`));
  expect(runs.length).toBeGreaterThan(1);
  const workflowBundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  let count = 0;
  const stop = v8.promiseHooks.createHook({
    init(p: Promise<unknown>) {
      if (p.constructor !== Promise) count++;
    },
  });
  try {
    for (const h of runs) await Worker.runReplayHistory({ workflowBundle }, h.history, h.workflowId);
  } finally {
    stop();
  }
  return count;
}

describe('lean starts (scale.lean-starts)', () => {
  it('the same rollout creates over 10 workflow promises fewer per target and step than before the patch', async () => {
    const before = await workflowPromises('inline-step-continue');
    const after = await workflowPromises('lean-step-continue');
    const saved = (before - after) / (TARGETS * STEPS_PER_TARGET);
    console.log(
      `workflow promises: ${before} before the patch, ${after} with it (${saved.toFixed(1)} fewer per target and step;` +
        ` the rest is each run's own: start, thread, steps, continue-as-new)`,
    );
    // The control is the history from before the patch: its count is what the patch cut (16 per target and step
    // before, about 4 with it, measured on a 200-target rollout).
    expect(saved).toBeGreaterThan(10);
  }, 120_000);
});
