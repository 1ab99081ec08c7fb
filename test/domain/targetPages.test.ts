// Target pages from a finished rollout's result (workflows/rollout/pages.ts): the packed view a result carries gives
// exactly the pages the `targets` query gives from the rollout's state (same function, lossless pack), and it fits in
// the result at 10,000 targets.
import { describe, expect, it } from 'vitest';
import type { TargetsQueryInput } from '../../workflows/messages';
import { RolloutState } from '../../workflows/rollout/state';
import {
  packPages,
  pagesWithin,
  RESULT_MAX_BYTES,
  targetsPage,
  unpackPages,
  utf8Bytes,
} from '../../workflows/rollout/pages';
import { pretendTargets, scaleShapeState } from '../support/scaleShape';

/** The benchmark's shape: a script step, then a rolling step of three child steps. */
function finishedState(n: number, tail = (i: number, k: number) => `${'x'.repeat(i % 7)}line ${k}\n`): RolloutState {
  const state = scaleShapeState(pretendTargets(n, '/tmp/pages-test'));
  const plan = state.plan;
  const t0 = Date.parse(state.startedAt);
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  plan.steps.forEach((step, si) => {
    const names = step.type === 'rolling' || step.type === 'script' ? step.childSteps.map((c) => c.name) : [];
    for (let i = 0; i < n; i++) {
      // Out of plan order: records go in the order targets started.
      const name = `t${((i * 7) % n) + 1}`;
      const start = si * 3_600_000 + i * 337;
      state.noteStarted(name);
      state.records[si]!.set(name, {
        step: step.name,
        state: 'succeeded',
        startedAt: at(start),
        endedAt: at(start + 1234),
        children: names.map((cname, k) => ({
          name: cname,
          state: 'succeeded' as const,
          exitCode: 0,
          tail: tail(i, k),
          startedAt: at(start + 10 + k * 400),
          endedAt: at(start + 300 + k * 400),
          attempt: 1,
          runId: `rollout-farm-v2/${si}-${step.name}/${name}/1/${k}/1`,
        })),
      });
    }
    state.stepStates[si] = 'done';
  });
  for (let i = 0; i < n; i++) state.outputsByTarget.set(`t${i + 1}`, { b: { Ok: i % 3 ? 'True' : 'False' } });
  return state;
}

/** The packed view as a result carries it: through JSON, as the payload converter sends it. */
const throughResult = (state: RolloutState) =>
  unpackPages(
    JSON.parse(JSON.stringify(packPages(state.targetsView(), state.plan.steps, Date.parse(state.startedAt)))),
  );

const queries: TargetsQueryInput[] = [
  {},
  { offset: 0, limit: 50 },
  { offset: 50, limit: 50 },
  { offset: 7, limit: 3 },
  { offset: 95, limit: 50 },
  { offset: 500 },
  { offset: -3, limit: 2 },
  { limit: 0 },
  { limit: 1000 },
  { target: 't1' },
  { target: 't77' },
  { target: 'nope' },
  { target: 'grey1' },
];

/** What the query handler returns, as the client receives it (JSON). */
const asReceived = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

describe('target pages of a finished rollout', () => {
  it('are the pages the query gives, for every filter and page, whatever the records hold', () => {
    const state = finishedState(100);
    const deploy = state.records[1]!;
    // Everything a record may hold that the compact carry leaves out or clips: a long tail, a long error, a failed
    // child with a null exit code, a second attempt, a run-once outcome, a child with no exit code at all, a hole
    // in the children, a time not in ISO form, a record with no start, a skipped target that never ran.
    const t77 = deploy.get('t77')!;
    t77.state = 'failed';
    t77.children[0] = { ...t77.children[0]!, tail: 'y'.repeat(6000), error: 'e'.repeat(900) };
    t77.children[1] = {
      ...t77.children[1]!,
      state: 'failed',
      exitCode: null,
      attempt: 2,
      outcome: 'unknown',
      lostContactAt: '2026-12-02T03:00:00.000Z',
    };
    t77.children.length = 2;
    const t5 = deploy.get('t5')!;
    delete t5.children[0]!.exitCode;
    delete t5.children[1];
    t5.children[2] = { ...t5.children[2]!, startedAt: 'Tue, 01 Dec 2026 10:00:00 GMT', endedAt: 'soon' };
    t5.children[0]!.endedAt = '2026-02-30T00:00:00.000Z'; // parses (to 2 March), does not come back the same
    deploy.get('t7')!.startedAt = '2026-01-01T24:00:00.000Z';
    deploy.set('t6', { step: 'deploy', state: 'pending', children: [] });
    deploy.set('t9', {
      step: 'deploy',
      state: 'skipped',
      notRun: true,
      endedAt: '2026-12-02T03:00:01.000Z',
      children: [{ name: 'a', state: 'skipped', notRun: true, attempt: 1, tail: 'ünïcödé ✓ 🚀' }],
    });
    deploy.set('t10', {
      step: 'deploy',
      state: 'waiting',
      startedAt: '2026-12-02T03:00:02.5Z',
      waitingOn: { lock: 'db', since: '2026-12-02T03:00:02.000Z' },
      children: [],
    });
    state.excluded.add('t12');
    state.outputsByTarget.delete('t13');
    state.outputsByTarget.set('t14', { a: { Secret: '****' }, b: { Ok: 'True' } });
    // A target provisioned during the rollout (a double-half step): not in the plan, paged like the plan's.
    state.dynamicTargets.push({ ...state.plan.targets[0]!, name: 'grey1' });
    state.records[0]!.set('grey1', { step: 'prepare', state: 'succeeded', children: [] });
    // A record of a target in no list (kept by name).
    state.records[0]!.set('gone', { step: 'prepare', state: 'failed', children: [] });

    const fromResult = throughResult(state);
    for (const q of queries) {
      expect(asReceived(targetsPage(fromResult, asReceived(q) as TargetsQueryInput)), JSON.stringify(q)).toEqual(
        asReceived(state.targetsPage(asReceived(q) as TargetsQueryInput)),
      );
    }
    // Every target, one by one.
    for (const t of state.allTargets()) {
      expect(asReceived(targetsPage(fromResult, { target: t.name })), t.name).toEqual(
        asReceived(state.targetsPage({ target: t.name })),
      );
    }
    // Control: the pages are not trivially equal (the fixture has what a lossy pack would lose).
    const lossy = JSON.stringify(state.targetsPage({ target: 't77' }), (k, v: unknown) =>
      k === 'tail' || k === 'runId' ? undefined : v,
    );
    expect(lossy).not.toEqual(JSON.stringify(state.targetsPage({ target: 't77' })));
    expect(state.targetsPage({ target: 't77' }).targets[0]!.steps[1]!.children[0]!.tail).toHaveLength(4000);
  });

  it('fit in the result at 10,000 targets, and are left out when they would not fit', () => {
    const n = 10_000;
    const state = finishedState(n);
    const packed = packPages(state.targetsView(), state.plan.steps, Date.parse(state.startedAt));
    const bytes = utf8Bytes(JSON.stringify(packed));
    const result = { status: 'succeeded', summary: state.summary(), targets: state.startedTargetOutcomes() };
    const resultBytes = utf8Bytes(JSON.stringify(result));
    console.log(`pages at ${n} targets (every record with its tails and run ids): ${bytes} bytes; rest ${resultBytes}`);
    // With every tail and run id (a rollout that never continued as new) it is too much for one result: left out.
    expect(pagesWithin(packed, resultBytes)).toBeUndefined();
    // A 10,000-target rollout continues as new: only its last run's records keep tails and run ids (the packed
    // carry drops them). Without them the pages fit with room to spare.
    for (const r of state.records) for (const rec of r.values()) for (const c of rec.children) delete c.tail;
    for (const r of state.records) for (const rec of r.values()) for (const c of rec.children) delete c.runId;
    const lean = packPages(state.targetsView(), state.plan.steps, Date.parse(state.startedAt));
    const leanBytes = utf8Bytes(JSON.stringify(lean));
    console.log(`pages at ${n} targets without tails and run ids: ${leanBytes} bytes`);
    expect(pagesWithin(lean, resultBytes)).toBe(lean);
    expect(resultBytes + leanBytes).toBeLessThan(RESULT_MAX_BYTES);
    expect(RESULT_MAX_BYTES).toBeLessThan(0.75 * 2 * 1024 * 1024);
    const fromResult = unpackPages(JSON.parse(JSON.stringify(lean)));
    for (const q of [{ offset: 9_990 }, { target: 't5000' }]) {
      expect(asReceived(targetsPage(fromResult, q))).toEqual(asReceived(state.targetsPage(q)));
    }
  });

  it('1,000 targets with every tail and run id fit', () => {
    const state = finishedState(1000);
    const packed = packPages(state.targetsView(), state.plan.steps, Date.parse(state.startedAt));
    const bytes = utf8Bytes(JSON.stringify(packed));
    console.log(`pages at 1,000 targets: ${bytes} bytes`);
    expect(pagesWithin(packed, 100_000)).toBe(packed);
  });

  it('utf8Bytes counts as Buffer does', () => {
    for (const s of ['', 'abc', 'ünï', '✓ 🚀', '\ud83d', 'x'.repeat(10)])
      expect(utf8Bytes(s), s).toBe(Buffer.byteLength(s));
  });
});
