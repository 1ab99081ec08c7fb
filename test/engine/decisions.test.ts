// Guided failure, manual intervention, run conditions and output variables: real Temporal, real sshd.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decide, getTargets, startRollout } from '../../src/temporal/client';
import type { DecisionChoice } from '../../domain/decisions';
import type { RolloutSummary } from '../../workflows/messages';
import type { TargetPlan } from '../../domain/plan';
import type { SshdFixture } from '../support/sshd';
import { temporalTestEnv, uniqueName, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { configFor, planFor, readTargetFile, startEngineFixture, type EngineFixture } from '../support/rollouts';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 5, baseAddress: '127.0.0.31', queuePrefix: 'decisions' });
  ({ sshd, env } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

/** Five targets; web3's deploy fails until a `fixed` file exists in its workdir; web4 is slow. */
function webFarm(targets: TargetPlan[], extra: Record<string, unknown> = {}) {
  const withWork = targets.map((t) => ({ ...t, variables: { Work: t.name === 'web4' ? '1.5' : '0.1' } }));
  return configFor(withWork, {
    'web-farm': {
      targets: ['tag:web'],
      approvers: ['U_ALICE', 'U_BOB'],
      ...extra,
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 2,
          childSteps: [
            { name: 'remove', script: 'touch removed' },
            {
              name: 'install',
              script:
                'echo run >> install-runs; sleep #{Work}; if [ #{Machine.Name} = web3 ] && [ ! -f fixed ]; then echo "health check failed" >&2; exit 3; fi; printf %s #{Release} > version',
            },
            { name: 'add-back', script: 'touch added-back' },
            { name: 'report', runCondition: 'always', script: 'touch reported' },
          ],
        },
      ],
    },
  });
}

const file = (t: TargetPlan | undefined, f: string) => (t ? readTargetFile(t, f) : undefined);
const lines = (t: TargetPlan | undefined, f: string) => (file(t, f) ?? '').split('\n').filter(Boolean).length;

async function failAtWeb3(name: string) {
  const targets = sshd.targetsFor(name);
  const handle = await startRollout(env.client, env.taskQueue, planFor(webFarm(targets), 'web-farm', 'v2', 'U_ALICE'));
  // The decision appears; web4 (in flight when web3 failed) finishes; web5 does not start meanwhile.
  const s = await waitForSummary(
    env.client,
    handle.workflowId,
    (x) => x.pendingDecisions.length === 1 && x.steps[0]?.counts.succeeded === 3,
  );
  const d = s.pendingDecisions[0]!;
  expect(d).toMatchObject({ kind: 'failure', step: 'deploy', target: 'web3', childStep: 'install', exitCode: 3 });
  expect(d.tail).toContain('health check failed');
  expect(s.steps[0]?.counts).toMatchObject({ succeeded: 3, waiting: 1, pending: 1 });
  expect(s.steps[0]?.inFlight).toEqual(['web3']);
  expect(existsSync(path.join(targets[4]!.workdir, 'removed'))).toBe(false);
  return { targets, handle, decisionId: d.id };
}

describe('guided failure: a rolling step (window 2 over 5) where web3 fails', () => {
  it('Fail: the rollout stops; web3 runs only its always step; web5 never starts', async () => {
    const { targets, handle, decisionId } = await failAtWeb3('fail');
    const r = await decide(env.client, handle.workflowId, decisionId, 'fail', 'U_BOB');
    expect(r).toMatchObject({ outcome: 'accepted', result: { choice: 'fail', by: 'U_BOB' } });
    const result = await handle.result();
    expect(result.status).toBe('failed');
    const [w1, w2, w3, w4, w5] = targets;
    for (const t of [w1, w2, w4]) expect(file(t, 'version')).toBe('v2');
    expect(file(w3, 'version')).toBeUndefined();
    expect(file(w3, 'added-back')).toBeUndefined();
    expect(file(w3, 'reported')).toBeDefined();
    expect(existsSync(w5!.workdir) && existsSync(path.join(w5!.workdir, 'removed'))).toBe(false);
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 3, failed: 1, skipped: 1 });
    expect(result.summary.recentDecisions[0]?.answer).toMatchObject({ choice: 'fail', by: 'U_BOB' });
  });

  it('Retry: the failed child step runs again and the chain goes on; everything deployed', async () => {
    const { targets, handle, decisionId } = await failAtWeb3('retry');
    writeFileSync(path.join(targets[2]!.workdir, 'fixed'), '');
    expect((await decide(env.client, handle.workflowId, decisionId, 'retry', 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    for (const t of targets) {
      expect(file(t, 'version')).toBe('v2');
      expect(file(t, 'added-back')).toBeDefined();
    }
    expect(lines(targets[2], 'install-runs')).toBe(2);
    const detail = (await getTargets(env.client, handle.workflowId, { target: 'web3' })).targets[0]!;
    expect(detail.steps[0]?.children[1]).toMatchObject({ name: 'install', state: 'succeeded', attempt: 2 });
  });

  it('Ignore: the failure counts as ignored and the target goes on with its next child steps', async () => {
    const { targets, handle, decisionId } = await failAtWeb3('ignore');
    expect((await decide(env.client, handle.workflowId, decisionId, 'ignore', 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const w3 = targets[2];
    expect(file(w3, 'version')).toBeUndefined();
    expect(file(w3, 'added-back')).toBeDefined();
    expect(file(targets[4], 'version')).toBe('v2');
    const detail = (await getTargets(env.client, handle.workflowId, { target: 'web3' })).targets[0]!;
    expect(detail.steps[0]?.children[1]).toMatchObject({ name: 'install', state: 'ignored', exitCode: 3 });
  });

  it('Exclude: web3 runs nothing more (not even always steps); the rest completes', async () => {
    const { targets, handle, decisionId } = await failAtWeb3('exclude');
    expect((await decide(env.client, handle.workflowId, decisionId, 'exclude', 'U_ALICE')).outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const w3 = targets[2];
    expect(file(w3, 'added-back')).toBeUndefined();
    expect(file(w3, 'reported')).toBeUndefined();
    expect(file(targets[4], 'version')).toBe('v2');
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 4, excluded: 1 });
    const detail = (await getTargets(env.client, handle.workflowId, { target: 'web3' })).targets[0]!;
    expect(detail.state).toBe('excluded');
  });
});

describe('decisions are exact', () => {
  it('two Retry answers at once: one wins, the script runs exactly twice; late and stale answers say why', async () => {
    const { targets, handle, decisionId } = await failAtWeb3('double');
    writeFileSync(path.join(targets[2]!.workdir, 'fixed'), '');
    const [a, b] = await Promise.all([
      decide(env.client, handle.workflowId, decisionId, 'retry', 'U_ALICE'),
      decide(env.client, handle.workflowId, decisionId, 'retry', 'U_BOB'),
    ]);
    const outcomes = [a.outcome, b.outcome].sort();
    expect(outcomes).toEqual(['accepted', 'rejected']);
    const loser = a.outcome === 'rejected' ? a : b;
    const winner = a.outcome === 'accepted' ? a : b;
    const winnerBy = winner.outcome === 'accepted' ? winner.result.by : '';
    expect(loser.outcome === 'rejected' && loser.reason).toMatch(
      new RegExp(`already answered: retry by ${winnerBy} at `),
    );
    const late = await decide(env.client, handle.workflowId, decisionId, 'exclude', 'U_BOB');
    expect(late).toMatchObject({ outcome: 'rejected' });
    const stale = await decide(env.client, handle.workflowId, 'd99', 'retry', 'U_BOB');
    expect(stale.outcome === 'rejected' && stale.reason).toMatch(/no decision "d99"/);
    expect((await handle.result()).status).toBe('succeeded');
    expect(lines(targets[2], 'install-runs')).toBe(2);
  });

  it('an unauthorised answer is refused and changes nothing', async () => {
    const { handle, decisionId } = await failAtWeb3('unauthorised');
    const r = await decide(env.client, handle.workflowId, decisionId, 'retry', 'U_EVE');
    expect(r.outcome === 'rejected' && r.reason).toMatch(/U_EVE is not allowed/);
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    expect(s.pendingDecisions[0]?.id).toBe(decisionId);
    await decide(env.client, handle.workflowId, decisionId, 'exclude', 'U_ALICE');
    await handle.result();
  });

  it('two targets failing at different times get their own decisions', async () => {
    const targets = sshd
      .targetsFor('two')
      .slice(0, 2)
      .map((t, i) => ({ ...t, variables: { Delay: i === 0 ? '0.1' : '1.5' } }));
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 2,
            childSteps: [{ name: 'install', script: 'sleep #{Delay}; exit 4' }],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 2);
    const [d1, d2] = s.pendingDecisions;
    expect([d1?.target, d2?.target]).toEqual(['web1', 'web2']);
    expect(d1?.id).not.toBe(d2?.id);
    expect((await decide(env.client, handle.workflowId, d1!.id, 'ignore', 'U_ALICE')).outcome).toBe('accepted');
    const after = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    expect(after.pendingDecisions[0]?.id).toBe(d2?.id);
    // The first answer does not carry over to the second failure.
    expect(after.pendingDecisions[0]?.answer).toBeUndefined();
    await decide(env.client, handle.workflowId, d2!.id, 'exclude', 'U_ALICE');
    const result = await handle.result();
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 1, excluded: 1 });
  });

  it('failure budget: past it the rollout stops asking and fails', async () => {
    const targets = sshd.targetsFor('budget').map((t) => ({ ...t, variables: { Delay: '0.1' } }));
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        failureBudget: 1,
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              {
                name: 'install',
                script: '[ #{Machine.Name} = web1 ] || [ #{Machine.Name} = web2 ] && exit 5; touch ok',
              },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    await decide(env.client, handle.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.summary.stopReason).toMatch(/failure budget exceeded/);
    expect(result.summary.recentDecisions).toHaveLength(1);
    expect(file(targets[2], 'ok')).toBeUndefined();
  });
});

describe('durability', () => {
  it('a worker killed with SIGKILL while a decision is pending: a fresh worker takes the answer', async () => {
    const local = await temporalTestEnv('crash');
    const taskQueue = uniqueName('crash');
    const spawnWorker = () => {
      // node itself (not the tsx CLI, which would put a second process between us and the worker).
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/workerProcess.ts'], {
        env: {
          ...process.env,
          TEMPORAL_TEST_ADDRESS: inject('temporalAddress'),
          WORKER_TASK_QUEUE: taskQueue,
          WORKER_BUNDLE_PATH: inject('workflowBundlePath'),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
        child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
      });
    };
    let worker = await spawnWorker();
    try {
      const targets = sshd.targetsFor('crash');
      const handle = await startRollout(
        local.client,
        taskQueue,
        planFor(webFarm(targets), 'web-farm', 'v2', 'U_ALICE'),
      );
      const s = await waitForSummary(local.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      // Nobody to take the answer: the caller is told, quickly, and nothing changes.
      const undelivered = await decide(
        local.client,
        handle.workflowId,
        s.pendingDecisions[0]!.id,
        'retry',
        'U_ALICE',
        3000,
      );
      expect(undelivered.outcome).toBe('undelivered');
      worker = await spawnWorker();
      writeFileSync(path.join(targets[2]!.workdir, 'fixed'), '');
      const r = await decide(local.client, handle.workflowId, s.pendingDecisions[0]!.id, 'retry', 'U_ALICE', 60_000);
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'accepted' });
      expect((await handle.result()).status).toBe('succeeded');
      for (const t of targets) expect(file(t, 'version')).toBe('v2');
      expect(lines(targets[2], 'install-runs')).toBe(2);
    } finally {
      worker.kill('SIGKILL');
      await local.close();
    }
  });
});

describe('manual intervention', () => {
  const manualFarm = (targets: TargetPlan[], manual: Record<string, unknown>) =>
    configFor(targets.slice(0, 2), {
      app: {
        targets: ['tag:web'],
        approvers: ['U_ALICE'],
        process: [
          { name: 'before', script: 'touch before' },
          {
            type: 'manual',
            name: 'approve',
            instructions: 'Check the dashboard for #{Release}, then proceed.',
            ...manual,
          },
          { name: 'after', script: 'touch after' },
        ],
      },
    });

  async function runManual(
    name: string,
    manual: Record<string, unknown>,
    answer?: { choice: DecisionChoice; by: string },
  ) {
    const targets = sshd.targetsFor(name);
    const handle = await startRollout(env.client, env.taskQueue, planFor(manualFarm(targets, manual), 'app', 'v7'));
    const s: RolloutSummary = await waitForSummary(
      env.client,
      handle.workflowId,
      (x) => x.pendingDecisions.length === 1,
    );
    const d = s.pendingDecisions[0]!;
    expect(d).toMatchObject({
      kind: 'manual',
      step: 'approve',
      instructions: 'Check the dashboard for v7, then proceed.',
    });
    if (answer) {
      const bad = await decide(env.client, handle.workflowId, d.id, answer.choice, 'U_MALLORY');
      expect(bad.outcome).toBe('rejected');
      const wrongKind = await decide(env.client, handle.workflowId, d.id, 'retry', answer.by);
      expect(wrongKind.outcome).toBe('rejected');
      expect((await decide(env.client, handle.workflowId, d.id, answer.choice, answer.by)).outcome).toBe('accepted');
    }
    return { targets, result: await handle.result() };
  }

  it('Proceed continues', async () => {
    const { targets, result } = await runManual(
      'proceed',
      { approvers: ['U_CAROL'] },
      { choice: 'proceed', by: 'U_CAROL' },
    );
    expect(result.status).toBe('succeeded');
    expect(file(targets[0], 'after')).toBeDefined();
    expect(result.summary.recentDecisions[0]?.answer).toMatchObject({ choice: 'proceed', by: 'U_CAROL' });
  });

  it('Abort ends the rollout as aborted; later steps never run', async () => {
    const { targets, result } = await runManual('abort', {}, { choice: 'abort', by: 'U_ALICE' });
    expect(result.status).toBe('aborted');
    expect(file(targets[0], 'before')).toBeDefined();
    expect(file(targets[0], 'after')).toBeUndefined();
  });

  it('a timeout takes the configured action', async () => {
    const { targets, result } = await runManual('timeout', { timeoutSec: 2, onTimeout: 'proceed' });
    expect(result.status).toBe('succeeded');
    expect(file(targets[0], 'after')).toBeDefined();
    expect(result.summary.recentDecisions[0]?.answer).toMatchObject({ choice: 'proceed', by: 'timeout' });
    const aborted = await runManual('timeout-abort', { timeoutSec: 1 });
    expect(aborted.result.status).toBe('aborted');
  });
});

describe('output variables and machine-level run conditions', () => {
  it("Octopus's sanity test: only machines whose sanity check said True are added back", async () => {
    const targets = sshd.targetsFor('sanity').slice(0, 4);
    const cfg = configFor(targets, {
      'web-farm': {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'web-deploy',
            window: 2,
            childSteps: [
              { name: 'remove-from-lb', script: 'touch removed' },
              { name: 'deploy', script: 'printf %s #{Release} > version' },
              {
                name: 'sanity-test',
                script:
                  'if [ #{Machine.Name} = web2 ]; then set_output ShouldAddBackToWebFarm False; else set_output ShouldAddBackToWebFarm True; fi',
              },
              {
                name: 'add-back',
                if: 'Output["sanity-test"].ShouldAddBackToWebFarm == "True"',
                script: 'echo #{Output.sanity-test.ShouldAddBackToWebFarm} > added-back',
              },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'web-farm', 'v3'));
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const added = targets.filter((t) => file(t, 'added-back') !== undefined).map((t) => t.name);
    expect(added).toEqual(['web1', 'web3', 'web4']);
    expect(file(targets[0], 'added-back')).toBe('True\n');
    const web2 = (await getTargets(env.client, handle.workflowId, { target: 'web2' })).targets[0]!;
    expect(web2.outputs).toEqual({ 'sanity-test': { ShouldAddBackToWebFarm: 'False' } });
    expect(web2.steps[0]?.children[3]).toMatchObject({ name: 'add-back', state: 'skipped' });
  });
});

describe('bounded history: continue-as-new between steps', () => {
  it('carries states, decisions and machine outputs into the next run; the summary still shows every step', async () => {
    const targets = sshd.targetsFor('can').slice(0, 3);
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'first',
            window: 2,
            childSteps: [
              {
                name: 'probe',
                script: 'if [ #{Machine.Name} = web2 ]; then set_output Ready False; else set_output Ready True; fi',
              },
              { name: 'flaky', script: '[ #{Machine.Name} != web3 ] || exit 9' },
            ],
          },
          { name: 'middle', script: 'echo middle >> log' },
          {
            type: 'rolling',
            name: 'last',
            window: 3,
            childSteps: [{ name: 'ship', if: 'Output.probe.Ready == "True"', script: 'echo shipped > shipped' }],
          },
        ],
      },
    });
    // A tiny threshold: the rollout continues as new before every step after the first.
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'), undefined, {
      continueAsNewAfterEvents: 1,
    });
    const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
    await decide(env.client, handle.workflowId, s.pendingDecisions[0]!.id, 'ignore', 'U_ALICE');
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    const described = await handle.describe();
    expect(described.runId).not.toBe(handle.firstExecutionRunId);
    // Every step's counts survive, the decision is still on record, and step 3 read step 1's machine outputs.
    expect(result.summary.steps.map((x) => [x.name, x.state, x.counts.succeeded])).toEqual([
      ['first', 'done', 3],
      ['middle', 'done', 3],
      ['last', 'done', 3],
    ]);
    expect(result.summary.recentDecisions.map((d) => [d.id, d.answer?.choice])).toEqual([['d1', 'ignore']]);
    expect(targets.map((t) => file(t, 'shipped') !== undefined)).toEqual([true, false, true]);
    const web3 = (await getTargets(env.client, handle.workflowId, { target: 'web3' })).targets[0]!;
    expect(web3.steps[0]?.children[1]).toMatchObject({ name: 'flaky', state: 'ignored', exitCode: 9 });
    expect(web3.outputs).toEqual({ probe: { Ready: 'True' } });
  });
});
