// The engine against a real Temporal dev server and real OpenSSH targets.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRollout, getTargets, startRollout } from '../../src/temporal/client';
import { RequestError } from '../../src/config/plan';
import type { SshdFixture } from '../support/sshd';
import { waitForSummary, type TemporalTestEnv } from '../support/temporal';
import {
  configFor,
  planFor,
  readTargetFile,
  startEngineFixture,
  timeline,
  type EngineFixture,
} from '../support/rollouts';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 6, baseAddress: '127.0.0.21', queuePrefix: 'engine' });
  ({ sshd, env } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

// The same engine tests over real sshd targets and over the local transport (same directories, local shell).
describe.each(['ssh', 'local'] as const)('engine over the %s transport', (transport) => {
  const targetsFor = (name: string) =>
    sshd
      .targetsFor(`${transport}-${name}`)
      .map((t) => (transport === 'local' ? { ...t, transport: 'local' as const } : t));

  it('keeps at most 2 in flight and starts the next target as soon as any one finishes', async () => {
    const durations = ['3', '0.3', '0.3', '0.3', '3', '0.3'];
    const targets = targetsFor('window').map((t, i) => ({ ...t, variables: { Work: durations[i] ?? '0.1' } }));
    const cfg = configFor(targets, {
      'web-farm': {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 2,
            childSteps: [
              { name: 'start', script: 'echo "start #{Machine.Name} $(date +%s.%N)" >> timeline' },
              { name: 'work', script: 'sleep #{Work}; printf %s #{Release} > version' },
              { name: 'finish', script: 'echo "end #{Machine.Name} $(date +%s.%N)" >> timeline' },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'web-farm', 'v2'));
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.steps[0]?.counts.succeeded).toBe(6);

    for (const t of targets) expect(readTargetFile(t, 'version')).toBe('v2');
    const spans = targets.map((t) => timeline(t) as { start: number; end: number });
    // At most two in flight at any instant: check at every start.
    for (const s of spans) {
      const overlapping = spans.filter((o) => o.start <= s.start && o.end > s.start).length;
      expect(overlapping).toBeLessThanOrEqual(2);
    }
    // Sliding, not batches: target 3 starts while target 1 (3 s) is still running.
    expect(spans[2]!.start).toBeLessThan(spans[0]!.end);
  });

  it('runs child steps in order per target, and a plain step on all targets at once (barrier)', async () => {
    const targets = targetsFor('barrier');
    const barrier = mkdtempSync(path.join(os.tmpdir(), 'barrier-'));
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        variables: { Barrier: barrier, Count: String(targets.length) },
        process: [
          {
            name: 'barrier',
            timeoutSec: 20,
            // Every target waits until all of them have arrived: run one at a time, this would time out.
            script:
              'touch #{Barrier}/#{Machine.Name}; for i in $(seq 150); do [ "$(ls #{Barrier} | wc -l)" -ge #{Count} ] && exit 0; sleep 0.1; done; exit 1',
          },
          {
            type: 'rolling',
            name: 'chain',
            window: 3,
            childSteps: ['a', 'b', 'c'].map((n) => ({ name: n, script: `echo ${n} >> order` })),
          },
        ],
      },
    });
    const result = await (await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'))).result();
    expect(result.status).toBe('succeeded');
    expect(readdirSync(barrier)).toHaveLength(targets.length);
    for (const t of targets) expect(readTargetFile(t, 'order')).toBe('a\nb\nc\n');
  });

  it('a failing script fails the rollout, naming target, step and exit code', async () => {
    const targets = targetsFor('fail').slice(0, 3);
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        onFailure: 'fail',
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              {
                name: 'install',
                script: '[ #{Machine.Name} != web2 ] || { echo "disk full" >&2; exit 7; }; touch installed',
              },
              { name: 'cleanup', runCondition: 'always', script: 'touch cleaned' },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.summary.failure).toMatchObject({ step: 'deploy', target: 'web2', childStep: 'install', exitCode: 7 });
    const [t1, t2, t3] = targets;
    expect(readTargetFile(t1!, 'installed')).toBeDefined();
    expect(readTargetFile(t2!, 'cleaned')).toBeDefined(); // the always step ran on the failed target
    expect(existsSync(t3!.workdir) && readdirSync(t3!.workdir).length > 0).toBe(false); // never started
    const page = await getTargets(env.client, handle.workflowId, { target: 'web2' });
    const detail = page.targets[0]!;
    expect(detail.state).toBe('failed');
    expect(detail.steps[0]?.children[0]).toMatchObject({ name: 'install', state: 'failed', exitCode: 7 });
    expect(detail.steps[0]?.children[0]?.tail).toContain('disk full');
  });

  it('cancel: in-flight targets finish their chain (always step included), the rest stay untouched', async () => {
    const targets = targetsFor('cancel').slice(0, 4);
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              { name: 'install', script: 'touch started; sleep 2; touch deployed' },
              { name: 'next', script: 'touch next' },
              { name: 'cleanup', runCondition: 'always', script: 'touch cleaned' },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    await waitForSummary(env.client, handle.workflowId, (s) => s.steps[0]?.inFlight.includes('web1') ?? false);
    const cancelled = await cancelRollout(env.client, handle.workflowId, 'U_ALICE', 'testing');
    expect(cancelled.outcome).toBe('accepted');
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.summary.stopReason).toBe('cancelled by U_ALICE: testing');
    const [t1, ...rest] = targets;
    // The in-flight target finished its chain under the run conditions.
    expect(readTargetFile(t1!, 'deployed')).toBeDefined();
    expect(readTargetFile(t1!, 'next')).toBeDefined();
    expect(readTargetFile(t1!, 'cleaned')).toBeDefined();
    for (const t of rest) expect(existsSync(path.join(t.workdir, 'started'))).toBe(false);
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 1, skipped: 3 });
    // A second cancel is refused and says why.
    const again = await cancelRollout(env.client, handle.workflowId, 'U_ALICE');
    expect(again.outcome).toBe('rejected');
  });

  it("Temporal's own cancellation follows the same stopping rule", async () => {
    const targets = targetsFor('tcancel').slice(0, 3);
    const cfg = configFor(targets, {
      app: {
        targets: ['tag:web'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              { name: 'install', script: 'touch started; sleep 2; touch deployed' },
              { name: 'cleanup', runCondition: 'always', script: 'touch cleaned' },
            ],
          },
        ],
      },
    });
    const handle = await startRollout(env.client, env.taskQueue, planFor(cfg, 'app'));
    await waitForSummary(env.client, handle.workflowId, (s) => s.steps[0]?.inFlight.includes('web1') ?? false);
    await handle.cancel();
    const result = await handle.result();
    expect(result.status).toBe('cancelled');
    expect(result.summary.stopReason).toBe('cancelled through Temporal');
    expect(readTargetFile(targets[0]!, 'deployed')).toBeDefined();
    expect(readTargetFile(targets[0]!, 'cleaned')).toBeDefined();
    expect(existsSync(path.join(targets[1]!.workdir, 'started'))).toBe(false);
  });

  it('refuses a hostile release before anything runs', () => {
    const targets = targetsFor('hostile');
    const cfg = configFor(targets, { app: { targets: ['tag:web'], process: [{ name: 's', script: 'touch ran' }] } });
    expect(() => planFor(cfg, 'app', 'v2; touch /tmp/pwned')).toThrow(RequestError);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});
