// Target pages (`status --target`, a page of targets) of a finished rollout answer from its recorded result
// (RolloutResult.pages, workflows/rollout/pages.ts), not by the `targets` query, which on a closed workflow makes a
// worker replay its whole history (seconds at 1,000 targets; it also crashed the benchmark's worker). Against the
// shared dev server, local-transport targets: for several filters and pages, getTargets gives exactly what the
// query on the closed workflow gives (tails, run ids, masked outputs, a continue-as-new chain, a cancelled
// rollout); then, with no worker left, the query cannot be answered (the control) and the pages still are. A
// terminated rollout has no result: it is queried, and so needs a worker.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { cancelRollout, getTargets, rolloutHandle, startRollout } from '../../src/temporal/client';
import { targetsQuery, type TargetsPage, type TargetsQueryInput } from '../../workflows/messages';
import { configFor, localTargets, planFor, realTransports } from '../support/rollouts';
import { temporalTestEnv, waitForSummary, type RunningWorker, type TemporalTestEnv } from '../support/temporal';

const SECRET = 'pages-s3cr3t-value';

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;
let worker: RunningWorker;

beforeAll(async () => {
  env = await temporalTestEnv('pages');
  transports = realTransports();
  worker = await env.startWorker({
    ...transports,
    secretSource: {
      env: (name) => (name === 'PAGES_SECRET' ? SECRET : undefined),
      readFile: (p) => readFile(p, 'utf8'),
    },
  });
});
afterAll(async () => {
  await env?.close();
  await transports?.close();
});

/** Ten targets (app1-app10; app9 and app10 tagged `db` only): a script step, a rolling step, a step on `db`. */
function farm(targets: TargetPlan[], extra: unknown[] = []) {
  const tagged = targets.map((t, i) => (i >= 8 ? { ...t, tags: ['db'] } : t));
  return configFor(tagged, {
    app: {
      targets: ['tag:web', 'tag:db'],
      approvers: ['U_ALICE'],
      variables: { TOKEN: { fromEnv: 'PAGES_SECRET', sensitive: true } },
      process: [
        { name: 'prepare', script: 'echo "prepare #{Machine.Name}"; echo "token=$ROLLOUT_VAR_TOKEN"' },
        {
          type: 'rolling',
          name: 'deploy',
          window: 3,
          childSteps: [
            { name: 'install', script: 'echo installing; echo warn >&2; set_output Ok True' },
            { name: 'secret', script: 'set_output token "$ROLLOUT_VAR_TOKEN"; echo "the token is $ROLLOUT_VAR_TOKEN"' },
            { name: 'gated', script: 'echo gated', if: 'Output.install.Ok == "False"' },
          ],
        },
        { name: 'migrate', tags: ['db'], script: 'echo migrated' },
        ...extra,
      ],
    },
  });
}

const QUERIES: TargetsQueryInput[] = [
  {},
  { offset: 0, limit: 4 },
  { offset: 4, limit: 4 },
  { offset: 8, limit: 4 },
  { offset: 3, limit: 1 },
  { offset: 50 },
  { target: 'app1' },
  { target: 'app9' },
  { target: 'nope' },
];

/** What the `targets` query answers on the (closed) workflow, bounded in time. */
function queried(rolloutId: string, q: TargetsQueryInput, timeoutMs = 30_000): Promise<TargetsPage> {
  return env.client.withDeadline(Date.now() + timeoutMs, () =>
    rolloutHandle(env.client, rolloutId).query(targetsQuery, q),
  );
}

const closed: Array<{ rolloutId: string; expected: TargetsPage[] }> = [];
let terminatedId = '';

describe('target pages of a finished rollout', { timeout: 120_000 }, () => {
  it('a rollout that continued as new: every page equals the query on the closed workflow', async () => {
    const targets = localTargets(10, { dirPrefix: 'pages-' });
    const handle = await startRollout(env.client, env.taskQueue, planFor(farm(targets), 'app'), undefined, {
      continueAsNewAfterEvents: 40,
    });
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const { runId } = await handle.describe();
    expect(runId).not.toBe(handle.firstExecutionRunId); // a continue-as-new chain: the result is on the last run
    expect(result.pages).toBeDefined();

    const expected: TargetsPage[] = [];
    for (const q of QUERIES) {
      const want = await queried(handle.workflowId, q);
      expect(await getTargets(env.client, handle.workflowId, q), JSON.stringify(q)).toEqual(want);
      expected.push(want);
    }
    // What the pages hold: tails and run ids of what ran in the last run (a record packed by an earlier
    // continue-as-new keeps neither, and which records those are depends on timing); outputs and tails masked.
    const app9 = expected[7]!.targets[0]!;
    expect(app9.steps.map((s) => s.step)).toEqual(['prepare', 'deploy', 'migrate']);
    const children = expected[0]!.targets.flatMap((t) => t.steps.flatMap((s) => s.children));
    const withTail = children.filter((c) => c.tail !== undefined && c.tail !== '');
    expect(withTail.length).toBeGreaterThan(0);
    for (const c of withTail) expect(c.runId, c.name).toBeTruthy();
    expect(withTail.map((c) => c.tail).join('\n')).toMatch(/migrated|installing|prepare/);
    expect(JSON.stringify(expected)).not.toContain(SECRET);
    expect(expected[0]!.total).toBe(10);
    closed.push({ rolloutId: handle.workflowId, expected });
  });

  it('a cancelled rollout (and one terminated, which has no result: queried)', async () => {
    const manual = { type: 'manual', name: 'approve', instructions: 'check the dashboards' };
    const targets = localTargets(10, { dirPrefix: 'pages-cancel-' });
    const cfg = farm(targets, [manual]);
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    await waitForSummary(env.client, handle.workflowId, (s) => s.pendingDecisions.length > 0);
    expect((await cancelRollout(env.client, handle.workflowId, 'U_ALICE', 'enough')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.pages).toBeDefined();
    const expected: TargetsPage[] = [];
    for (const q of QUERIES) {
      const want = await queried(handle.workflowId, q);
      expect(await getTargets(env.client, handle.workflowId, q), JSON.stringify(q)).toEqual(want);
      expected.push(want);
    }
    // One run: every target's outputs are there, the secret one masked (as the activity masked it).
    const tokens = expected[0]!.targets.map((t) => t.outputs.secret?.token);
    expect(tokens.every((x) => x !== undefined && x !== SECRET)).toBe(true);
    expect(expected[0]!.targets[0]!.steps[1]!.children[1]!.tail).toContain('the token is');
    expect(JSON.stringify(expected)).not.toContain(SECRET);
    closed.push({ rolloutId: handle.workflowId, expected });

    const other = await startRollout(
      env.client,
      env.taskQueue,
      planFor(farm(localTargets(10, { dirPrefix: 'pages-t-' }), [manual]), 'app'),
    );
    await waitForSummary(env.client, other.workflowId, (s) => s.pendingDecisions.length > 0);
    await other.terminate('testing');
    for (const q of QUERIES.slice(0, 3)) {
      expect(await getTargets(env.client, other.workflowId, q)).toEqual(await queried(other.workflowId, q));
    }
    terminatedId = other.workflowId;
  });

  it('with no worker left: the query is not answered (the control), the pages still are, fast', async () => {
    expect(closed).toHaveLength(2);
    await worker.stop();
    for (const { rolloutId, expected } of closed) {
      // The control: the old path (the query) needs a worker to replay the history.
      await expect(queried(rolloutId, QUERIES[1]!, 3000)).rejects.toThrow();
      const times: number[] = [];
      for (const [i, q] of QUERIES.entries()) {
        const t0 = performance.now();
        const page = await env.client.withDeadline(Date.now() + 3000, () => getTargets(env.client, rolloutId, q));
        times.push(performance.now() - t0);
        expect(page, JSON.stringify(q)).toEqual(expected[i]);
      }
      console.log(`${rolloutId}: pages without a worker in ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
    }
    // A terminated rollout has no result to answer from: it still needs the query, so a worker.
    await expect(
      env.client.withDeadline(Date.now() + 3000, () => getTargets(env.client, terminatedId, {})),
    ).rejects.toThrow();
  });
});
