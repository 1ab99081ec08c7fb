// Run once (issue 9), process faults: the worker SIGKILLed or SIGTERMed mid-script, the Temporal server SIGKILLed
// and restarted mid-script. Real sshd targets, real Temporal, worker processes; the scripts leave markers on their
// targets (`runs`: one line per start, `finished`: one per completion). Each case runs beside its CONTROL: the same
// scenario with a worker that starts a new run on every retry (RunSettings.rerunOnRetry, the behaviour before
// run-once), which must count two runs, so an "exactly once" count of 1 means something.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTargets, startRollout } from '../../src/temporal/client';
import { findOrInstallTemporalCli } from '../../src/temporal/binaries';
import { getFreePort, startDevServer, type DevServerHandle } from '../../src/temporal/devServer';
import type { TargetPlan } from '../../domain/plan';
import type { RolloutResult } from '../../workflows/messages';
import { killWorker, lineCount, sleep, spawnWorker, tickingScript, until, type WorkerProcess } from '../support/faults';
import { configFor, planFor } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, uniqueName, type TemporalTestEnv } from '../support/temporal';

let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  sshd = await startSshd({ count: 2, baseAddress: '127.0.5.11', namePrefix: 'web' });
  env = await temporalTestEnv('runonce-proc');
});

afterAll(async () => {
  await env?.close();
  await sshd?.stop();
});

function appPlan(t: TargetPlan, seconds: number) {
  const cfg = configFor([t], {
    app: {
      targets: ['tag:web'],
      onFailure: 'fail',
      process: [
        {
          type: 'rolling',
          name: 'deploy',
          window: 1,
          childSteps: [{ name: 'install', timeoutSec: 120, script: tickingScript(seconds) }],
        },
      ],
    },
  });
  return planFor(cfg, 'app');
}

interface Observed {
  result: RolloutResult;
  starts: number;
  finished: number;
  child: Record<string, unknown> | undefined;
}

async function observe(client: Client, t: TargetPlan, result: RolloutResult, rolloutId: string): Promise<Observed> {
  const detail = (await getTargets(client, rolloutId, { target: t.name })).targets[0];
  return {
    result,
    starts: lineCount(t, 'runs'),
    finished: lineCount(t, 'finished'),
    child: detail?.steps[0]?.children[0] as never,
  };
}

function expectOnce(o: Observed, seconds: number): void {
  expect(o.starts, 'script starts on the target').toBe(1);
  expect(o.finished, 'script completions on the target').toBe(1);
  expect(o.result.status).toBe('succeeded');
  expect(o.child).toMatchObject({ name: 'install', state: 'succeeded', exitCode: 0, attempt: 1 });
  expect(String(o.child?.tail)).toContain(`tick ${seconds}\nall done`);
}

describe('run once: process faults', () => {
  it('worker SIGKILLed while a script writes a line per second: the script completes, once; its exit code and tail are recorded', async () => {
    const seconds = 10;
    const scenario = async (control: boolean): Promise<Observed> => {
      const t = sshd.targetsFor(`sigkill-${control ? 'control' : 'main'}`)[control ? 1 : 0]!;
      const taskQueue = uniqueName('sigkill');
      const runs = control ? { rerunOnRetry: true } : undefined;
      let w: WorkerProcess | undefined = await spawnWorker({ taskQueue, ...(runs ? { runs } : {}) });
      try {
        const handle = await startRollout(env.client, taskQueue, appPlan(t, seconds));
        await until(() => lineCount(t, 'ticks') >= 2, 60_000, 'two ticks');
        await killWorker(w);
        // The script did not die with the worker: it keeps ticking (its stdout is a log file, not the channel).
        const ticks = lineCount(t, 'ticks');
        await until(() => lineCount(t, 'ticks') > ticks + 1, 10_000, 'ticks after the kill');
        w = await spawnWorker({ taskQueue, ...(runs ? { runs } : {}) });
        const result = await handle.result();
        return await observe(env.client, t, result, handle.workflowId);
      } finally {
        await killWorker(w);
      }
    };
    const [main, control] = await Promise.all([scenario(false), scenario(true)]);
    expectOnce(main, seconds);
    expect(control.starts, 'control: without re-attach the retry runs the script again').toBe(2);
  }, 240_000);

  it("worker SIGKILLed in the middle of a three-step chain: each child step runs once; the first one's output still decides the third", async () => {
    // Rollouts since `inline-chain` run a target's chain as one activity: its retry walks the chain again, so the
    // child step that had finished must be re-attached to (its outcome and output read back), not run again.
    const scenario = async (control: boolean) => {
      const t = sshd.targetsFor(`chain-${control ? 'control' : 'main'}`)[control ? 1 : 0]!;
      const taskQueue = uniqueName('chainkill');
      const runs = control ? { rerunOnRetry: true } : undefined;
      const cfg = configFor([t], {
        app: {
          targets: ['tag:web'],
          onFailure: 'fail',
          process: [
            {
              type: 'rolling',
              name: 'deploy',
              window: 1,
              childSteps: [
                { name: 'prepare', timeoutSec: 60, script: 'echo x >> prepared; set_output ready yes' },
                { name: 'install', timeoutSec: 120, script: tickingScript(8) },
                {
                  name: 'verify',
                  timeoutSec: 60,
                  if: 'Output.prepare.ready == "yes"',
                  script: 'echo x >> verified',
                },
              ],
            },
          ],
        },
      });
      let w: WorkerProcess | undefined = await spawnWorker({ taskQueue, ...(runs ? { runs } : {}) });
      try {
        const handle = await startRollout(env.client, taskQueue, planFor(cfg, 'app'));
        await until(() => lineCount(t, 'ticks') >= 2, 60_000, 'two ticks of the second child step');
        await killWorker(w);
        w = await spawnWorker({ taskQueue, ...(runs ? { runs } : {}) });
        const result = await handle.result();
        const detail = (await getTargets(env.client, handle.workflowId, { target: t.name })).targets[0];
        return {
          result,
          prepared: lineCount(t, 'prepared'),
          starts: lineCount(t, 'runs'),
          verified: lineCount(t, 'verified'),
          children: detail?.steps[0]?.children.map((c) => ({ name: c.name, state: c.state })),
        };
      } finally {
        await killWorker(w);
      }
    };
    const [main, control] = await Promise.all([scenario(false), scenario(true)]);
    expect(main.result.status).toBe('succeeded');
    expect(main.prepared, 'first child step runs on the target').toBe(1);
    expect(main.starts, 'second child step (killed mid-run) starts on the target').toBe(1);
    expect(main.verified, "third child step, gated by the first one's output").toBe(1);
    expect(main.children).toEqual([
      { name: 'prepare', state: 'succeeded' },
      { name: 'install', state: 'succeeded' },
      { name: 'verify', state: 'succeeded' },
    ]);
    // The control starts a new run on every retry: the finished first child step runs again.
    expect(control.prepared, 'control: without re-attach the retry runs the first child step again').toBe(2);
  }, 240_000);

  it('SIGTERM during a script longer than the shutdown grace: the worker exits 0 at once, the script completes once, the rollout succeeds', async () => {
    const seconds = 14; // the worker's shutdown grace is 3 s: before run-once the script was killed after it
    const scenario = async (
      control: boolean,
    ): Promise<
      Observed & { exit: { code: number | null; signal: string | null }; tookMs: number; finishedAtExit: number }
    > => {
      const t = sshd.targetsFor(`sigterm-${control ? 'control' : 'main'}`)[control ? 1 : 0]!;
      const taskQueue = uniqueName('sigterm');
      const runs = control ? { rerunOnRetry: true } : undefined;
      const opts = { taskQueue, shutdownGraceMs: 3000, ...(runs ? { runs } : {}) };
      let w: WorkerProcess | undefined = await spawnWorker(opts);
      try {
        const handle = await startRollout(env.client, taskQueue, appPlan(t, seconds));
        await until(() => lineCount(t, 'ticks') >= 2, 60_000, 'two ticks');
        const t0 = Date.now();
        w.child.kill('SIGTERM');
        const exit = await w.exited;
        const tookMs = Date.now() - t0;
        const finishedAtExit = lineCount(t, 'finished');
        w = await spawnWorker(opts);
        const result = await handle.result();
        return { ...(await observe(env.client, t, result, handle.workflowId)), exit, tookMs, finishedAtExit };
      } finally {
        await killWorker(w);
      }
    };
    const [main, control] = await Promise.all([scenario(false), scenario(true)]);
    expect(main.exit).toEqual({ code: 0, signal: null });
    expect(main.tookMs, 'the worker hands the script back instead of waiting for it').toBeLessThan(10_000);
    expect(main.finishedAtExit, 'the script was still running when the worker had exited').toBe(0);
    expectOnce(main, seconds);
    expect(control.starts, 'control: without re-attach the next worker runs the script again').toBe(2);
  }, 240_000);

  it('the Temporal server SIGKILLed mid-script and restarted on the same database: the script ran once', async () => {
    const seconds = 10;
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'rollout-runonce-temporal-'));
    const cliPath = await findOrInstallTemporalCli(path.resolve('.rollout'));
    const ports = { grpcPort: await getFreePort(), httpPort: await getFreePort(), metricsPort: await getFreePort() };
    const start = () => startDevServer({ cliPath, stateDir, ...ports, headless: true, detached: false });
    let server: DevServerHandle | undefined = await start();
    const workers: WorkerProcess[] = [];
    let connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const setups = await Promise.all(
        [false, true].map(async (control) => {
          const t = sshd.targetsFor(`temporal-${control ? 'control' : 'main'}`)[control ? 1 : 0]!;
          const taskQueue = uniqueName('temporal');
          workers.push(
            await spawnWorker({
              taskQueue,
              address: server!.address,
              ...(control ? { runs: { rerunOnRetry: true } } : {}),
            }),
          );
          const handle = await startRollout(client, taskQueue, appPlan(t, seconds));
          return { t, rolloutId: handle.workflowId };
        }),
      );
      for (const s of setups) await until(() => lineCount(s.t, 'ticks') >= 2, 60_000, 'two ticks');
      process.kill(server.pid, 'SIGKILL');
      await until(
        () => {
          try {
            process.kill(server!.pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        10_000,
        'server gone',
      );
      server = undefined;
      // Down for longer than the activity heartbeat timeout (30 s): when it is back, the activity has timed out and
      // is retried; the scripts finish meanwhile.
      await sleep(35_000);
      for (const s of setups) expect(lineCount(s.t, 'finished')).toBe(1);
      server = await start();
      await connection.close().catch(() => undefined);
      connection = await Connection.connect({ address: server.address });
      const again = new Client({ connection, namespace: 'default' });
      const [main, control] = await Promise.all(
        setups.map(async (s) => {
          const result = (await again.workflow.getHandle(s.rolloutId).result()) as RolloutResult;
          return observe(again, s.t, result, s.rolloutId);
        }),
      );
      expectOnce(main!, seconds);
      expect(control!.starts, 'control: without re-attach the retried activity runs the script again').toBe(2);
    } finally {
      for (const w of workers) await killWorker(w);
      await connection.close().catch(() => undefined);
      await server?.stop().catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
