// Issue 14 (teams, part): reminders and escalation of pending decisions, and the release check that runs before
// any target is touched. Real Temporal dev server, real sshd targets on 127.0.26.x, a stand-in Slack worker that
// records the thread events the rollout posts (with the wall-clock time each arrived).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApproverActivities } from '../../activities/approvers';
import type { ThreadEvent } from '../../activities/slack/notifier';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { decide, getTargets, startRollout } from '../../src/temporal/client';
import type { SshdFixture } from '../support/sshd';
import { uniqueName, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { configFor, planFor, readTargetFile, startEngineFixture, type EngineFixture } from '../support/rollouts';

let fixture: EngineFixture | undefined;
let sshd: SshdFixture;
let env: TemporalTestEnv;
let slackWorker: Worker | undefined;
let slackRun: Promise<void> | undefined;
let slackConnection: NativeConnection | undefined;
const slackQueue = uniqueName('teamsops-slack');
/** Every thread event posted, with when it arrived (ms since epoch). */
const posted: Array<{ event: ThreadEvent; arrivedAt: number }> = [];

beforeAll(async () => {
  fixture = await startEngineFixture({ count: 2, baseAddress: '127.0.26.1', queuePrefix: 'teamsops' });
  ({ sshd, env } = fixture);
  slackConnection = await NativeConnection.connect({ address: env.address });
  let ts = 0;
  slackWorker = await Worker.create({
    connection: slackConnection,
    namespace: 'default',
    taskQueue: slackQueue,
    activities: {
      ...createApproverActivities({}),
      async slackThreadEvent({ event }: { event: ThreadEvent }) {
        posted.push({ event, arrivedAt: Date.now() });
        return { ts: `1700000000.${String(++ts).padStart(6, '0')}` };
      },
    },
  });
  slackRun = slackWorker.run();
});

afterAll(async () => {
  slackWorker?.shutdown();
  await slackRun?.catch(() => undefined);
  await slackConnection?.close();
  await fixture?.close();
});

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const eventsOf = (rolloutId: string) => posted.filter((p) => 'rolloutId' in p.event && p.event.rolloutId === rolloutId);
const reminderOf = (rolloutId: string, decisionId: string, phase: 'reminder' | 'escalation') =>
  eventsOf(rolloutId).find(
    (p) => p.event.type === 'reminder' && p.event.decision.id === decisionId && p.event.phase === phase,
  );
const cardOf = (rolloutId: string, decisionId: string) =>
  eventsOf(rolloutId).find((p) => p.event.type === 'decision' && p.event.decision.id === decisionId);

describe('reminders and escalation: durable timers in the rollout workflow', () => {
  it('a pending decision re-notifies its approvers after its reminder time and escalates after the next; one answered in time is never reminded', async () => {
    const [web1] = sshd.targetsFor('reminders');
    const cfg = configFor([web1!], {
      'web-farm': {
        targets: ['tag:web'],
        approvers: ['U_ALICE', 'U_BOB'],
        reminders: { after: '2s', escalateAfter: '4s', escalateTo: '#ops-oncall' },
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              { name: 'drain', script: 'touch drained' },
              { name: 'install', script: 'if [ ! -f fixed ]; then echo "health check failed" >&2; exit 3; fi' },
              { name: 'add-back', script: 'touch added-back' },
            ],
          },
          { type: 'manual', name: 'approve', instructions: 'Look at the graphs.' },
          { type: 'manual', name: 'confirm', instructions: 'Confirm the release.' },
        ],
      },
    });
    const plan = {
      ...planFor(cfg, 'web-farm'),
      slack: { channel: 'C_DEPLOYS', ts: '1700000000.000000', taskQueue: slackQueue },
    };
    expect(plan.reminders).toEqual({ afterSec: 2, escalateAfterSec: 4, escalateTo: { channel: '#ops-oncall' } });
    const handle = await startRollout(env.client, env.taskQueue, plan);
    const id = handle.workflowId;

    // d1: web1 failed at install after drain: out of its pool. Reminded at 2 s, escalated at 4 s.
    const card1 = await until('the failure card', () => cardOf(id, 'd1'));
    const rem1 = await until('the reminder of d1', () => reminderOf(id, 'd1', 'reminder'));
    const esc1 = await until('the escalation of d1', () => reminderOf(id, 'd1', 'escalation'));
    const createdAt = Date.parse(card1.event.type === 'decision' ? card1.event.decision.createdAt : '');
    for (const [p, afterMs] of [
      [rem1, 2000],
      [esc1, 4000],
    ] as const) {
      if (p.event.type !== 'reminder') throw new Error('not a reminder');
      // The workflow's timer fired no earlier than its time (and the post arrived after it).
      expect(Date.parse(p.event.at) - createdAt).toBeGreaterThanOrEqual(afterMs);
      expect(p.arrivedAt - createdAt).toBeGreaterThanOrEqual(afterMs);
      expect(p.event.answerers.sort()).toEqual(['U_ALICE', 'U_BOB']);
      expect(p.event.doneBefore).toEqual(['drain']);
      expect(p.event.decision).toMatchObject({ target: web1!.name, childStep: 'install' });
    }
    expect(esc1.event).toMatchObject({ escalateTo: { channel: '#ops-oncall' } });
    expect(rem1.event).not.toHaveProperty('escalateTo');
    expect(readTargetFile(web1!, 'drained')).toBeDefined();
    const s1 = await waitForSummary(env.client, id, (s) => s.pendingDecisions[0]?.escalatedAt !== undefined);
    expect(s1.pendingDecisions[0]).toMatchObject({ id: 'd1', escalatedTo: '#ops-oncall' });
    expect(s1.pendingDecisions[0]?.remindedAt).toBeDefined();

    writeFileSync(path.join(web1!.workdir, 'fixed'), '');
    await decide(env.client, id, 'd1', 'retry', 'U_BOB');

    // d2 answered at once: never reminded. d3 left pending: reminded (its timer started after d2's would have
    // fired, and the thread posts in order, so d2's reminder would be there by then: the control).
    await until('the card of d2', () => cardOf(id, 'd2'));
    await decide(env.client, id, 'd2', 'proceed', 'U_ALICE');
    await until('the card of d3', () => cardOf(id, 'd3'));
    const rem3 = await until('the reminder of d3', () => reminderOf(id, 'd3', 'reminder'));
    expect(rem3.event).toMatchObject({ decision: { kind: 'manual', step: 'confirm' } });
    expect(reminderOf(id, 'd2', 'reminder')).toBeUndefined();
    expect(reminderOf(id, 'd1', 'reminder')).toBeDefined(); // the same lookup finds what is there
    await decide(env.client, id, 'd3', 'proceed', 'U_ALICE');
    const end = await handle.result();
    expect(end.status).toBe('succeeded');
    expect(reminderOf(id, 'd3', 'escalation')).toBeUndefined();
  }, 60_000);
});

describe('release check: runs on the worker before any target is touched', () => {
  function farm(targets: ReturnType<SshdFixture['targetsFor']>, releases: string) {
    return configFor(targets, {
      'web-farm': {
        targets: ['tag:web'],
        releaseCheck: {
          script: `test -f ${releases}/#{Release}.sha256 || { echo "release #{Release} has no published checksum" >&2; exit 4; }`,
          workdir: path.join(releases, 'work'),
        },
        process: [
          { name: 'deploy', script: 'touch deployed' },
          { name: 'on-failure', runCondition: 'failure', script: 'touch failure-ran' },
          { name: 'always', runCondition: 'always', script: 'touch always-ran' },
        ],
      },
    });
  }

  it('a failing check fails the rollout and no target is touched; a passing one (the control) lets it deploy', async () => {
    const releases = mkdtempSync(path.join(os.tmpdir(), 'teamsops-releases-'));
    writeFileSync(path.join(releases, 'v2.sha256'), 'abc  app.tar.gz\n');

    const bad = sshd.targetsFor('check-fails');
    const h1 = await startRollout(env.client, env.taskQueue, planFor(farm(bad, releases), 'web-farm', 'v3'));
    const r1 = await h1.result();
    expect(r1.status).toBe('failed');
    expect(r1.summary.stopReason).toContain('release check failed (exited 4)');
    expect(r1.summary.stopReason).toContain("release 'v3' has no published checksum");
    expect(r1.summary.releaseCheck).toMatchObject({ state: 'failed', exitCode: 4 });
    expect(r1.summary.steps.map((s) => s.state)).toEqual(['skipped', 'skipped', 'skipped']);
    for (const t of bad) {
      for (const marker of ['deployed', 'failure-ran', 'always-ran']) expect(readTargetFile(t, marker)).toBeUndefined();
      // Not even the workdir (created by the first script run there) exists: nothing ran on the target.
      expect(existsSync(t.workdir)).toBe(false);
    }

    const good = sshd.targetsFor('check-passes');
    const h2 = await startRollout(env.client, env.taskQueue, planFor(farm(good, releases), 'web-farm', 'v2'));
    const r2 = await h2.result();
    expect(r2.status).toBe('succeeded');
    expect(r2.summary.releaseCheck).toMatchObject({ state: 'passed', exitCode: 0 });
    for (const t of good) {
      expect(existsSync(t.workdir)).toBe(true);
      expect(readTargetFile(t, 'deployed')).toBeDefined();
      expect(readTargetFile(t, 'always-ran')).toBeDefined();
      expect(readTargetFile(t, 'failure-ran')).toBeUndefined();
    }
  }, 60_000);
});

describe('artifacts: copied over SFTP, verified on the target before use, the last N releases kept', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  function artifacts(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'teamsops-artifacts-'));
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      const body = `app ${v}\n`;
      writeFileSync(path.join(dir, `app-${v}.txt`), body);
      writeFileSync(path.join(dir, `app-${v}.txt.sha256`), `${sha(body)}  app-${v}.txt\n`);
    }
    return dir;
  }
  const releaseDirs = (t: { workdir: string }) => {
    const d = path.join(t.workdir, 'releases');
    return existsSync(d)
      ? readdirSync(d)
          .filter((n) => !n.startsWith('.'))
          .sort()
      : [];
  };

  it('a wrong checksum fails that target and the artifact is never used; the right one (control) is placed and used', async () => {
    const dir = artifacts();
    const [web1, web2] = sshd.targetsFor('artifact-checksum');
    const targets = [
      { ...web1!, variables: { ArtSha: sha('app v1\n') } },
      { ...web2!, variables: { ArtSha: sha('something else') } },
    ];
    const cfg = configFor(targets, {
      'web-farm': {
        targets: ['tag:web'],
        onFailure: 'fail',
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              { name: 'fetch', artifact: { source: `${dir}/app-#{Release}.txt`, sha256: '#{ArtSha}', keep: 2 } },
              { name: 'use', script: 'cat releases/#{Release}/app-#{Release}.txt > used' },
            ],
          },
        ],
      },
    });
    const r = await (await startRollout(env.client, env.taskQueue, planFor(cfg, 'web-farm', 'v1'))).result();
    expect(r.status).toBe('failed');
    expect(r.summary.failure).toMatchObject({ target: web2!.name, childStep: 'fetch', exitCode: 65 });
    // web1 (right checksum): placed, then used.
    expect(readTargetFile(web1!, 'used')).toBe('app v1\n');
    expect(readTargetFile(web1!, 'releases/v1/app-v1.txt')).toBe('app v1\n');
    // web2 (wrong checksum): the upload was deleted, nothing placed, `use` never ran.
    expect(readTargetFile(web2!, 'used')).toBeUndefined();
    expect(existsSync(path.join(web2!.workdir, 'releases', 'v1'))).toBe(false);
    expect(readdirSync(path.join(web2!.workdir, 'releases', '.incoming'))).toEqual([]);
    const details = await getTargets(env.client, r.summary.rolloutId, { target: web2!.name });
    expect(details.targets[0]?.steps[0]?.children[0]?.tail).toContain('checksum mismatch');
  }, 60_000);

  it('the kept releases on a target are the last N (keep: 2 over v1..v4), each verified from its .sha256 file', async () => {
    const dir = artifacts();
    const [web1] = sshd.targetsFor('artifact-keep');
    const cfg = configFor([web1!], {
      'web-farm': {
        targets: ['tag:web'],
        onFailure: 'fail',
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 1,
            childSteps: [
              { name: 'fetch', artifact: { source: `${dir}/app-#{Release}.txt`, keep: 2 } },
              { name: 'use', script: 'cat releases/#{Release}/app-#{Release}.txt > used' },
            ],
          },
        ],
      },
    });
    const kept: string[][] = [];
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      const r = await (await startRollout(env.client, env.taskQueue, planFor(cfg, 'web-farm', v))).result();
      expect(r.summary.failure ?? r.status).toBe('succeeded');
      expect(readTargetFile(web1!, 'used')).toBe(`app ${v}\n`);
      kept.push(releaseDirs(web1!));
    }
    expect(kept).toEqual([['v1'], ['v1', 'v2'], ['v2', 'v3'], ['v3', 'v4']]);
    expect(readTargetFile(web1!, 'releases/v4/app-v4.txt')).toBe('app v4\n');
    // Every upload was verified and moved into place: no temporary file is left.
    expect(readdirSync(path.join(web1!.workdir, 'releases', '.incoming'))).toEqual([]);
  }, 90_000);
});

describe('shared targets: two deployables sharing a target never overlap on it', () => {
  /** Deployables `a` and `b`, each on its own target entry for the same sshd (host:port), own workdirs. */
  function twoOnOneHost(shared: boolean, timeline: string) {
    const [box] = sshd.targetsFor(shared ? 'shared-on' : 'shared-off');
    const entry = (wd: string) => ({
      transport: 'ssh',
      host: box!.host,
      port: box!.port,
      user: box!.user,
      privateKeyPath: box!.privateKeyPath,
      knownHostsPath: box!.knownHostsPath,
      tags: ['web'],
      workdir: `${box!.workdir}-${wd}`,
      ...(shared ? { shared: true } : {}),
    });
    const chain = (who: string) => [
      {
        type: 'rolling',
        name: 'deploy',
        window: 1,
        childSteps: [
          { name: 'begin', script: `echo "start ${who} $(date +%s%N)" >> ${timeline}; sleep 1` },
          { name: 'finish', script: `sleep 1; echo "end ${who} $(date +%s%N)" >> ${timeline}` },
        ],
      },
    ];
    return validateConfig(
      {
        targets: { 'box-a': entry('a'), 'box-b': entry('b') },
        deployables: {
          a: { targets: ['box-a'], process: chain('a') },
          b: { targets: ['box-b'], process: chain('b') },
        },
      },
      'test-config',
      '/',
    );
  }
  const intervals = (file: string) => {
    const out: Record<string, { start?: number; end?: number }> = {};
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const [kind, who, at] = line.split(' ');
      (out[who!] ??= {})[kind as 'start' | 'end'] = Number(at) / 1e6;
    }
    return out;
  };
  const overlap = (x: { start?: number; end?: number }, y: { start?: number; end?: number }) =>
    x.start! < y.end! && y.start! < x.end!;

  it('with shared: true the second waits (its status says on what and since when); without it (control) they overlap', async () => {
    for (const shared of [false, true]) {
      const timeline = path.join(mkdtempSync(path.join(os.tmpdir(), 'teamsops-shared-')), 'timeline');
      const cfg = twoOnOneHost(shared, timeline);
      const ha = await startRollout(
        env.client,
        env.taskQueue,
        buildPlan(cfg, { deployable: 'a', release: 'v1', requestedBy: 'U1' }),
      );
      const hb = await startRollout(
        env.client,
        env.taskQueue,
        buildPlan(cfg, { deployable: 'b', release: 'v1', requestedBy: 'U1' }),
      );
      if (shared) {
        // One of the two waits for the other: its summary names the lock and since when.
        const waiting = await Promise.race(
          [ha, hb].map((h) =>
            waitForSummary(env.client, h.workflowId, (s) => (s.waitingOnTargets?.length ?? 0) > 0, 20_000),
          ),
        );
        expect(waiting.waitingOnTargets?.[0]?.lock).toBe(`${cfg.targets[0]!.host}:${cfg.targets[0]!.port}`);
        expect(Date.parse(waiting.waitingOnTargets![0]!.since)).toBeGreaterThan(0);
      }
      const [ra, rb] = await Promise.all([ha.result(), hb.result()]);
      expect([ra.status, rb.status]).toEqual(['succeeded', 'succeeded']);
      const iv = intervals(timeline);
      expect(overlap(iv.a!, iv.b!)).toBe(!shared);
    }
  }, 90_000);
});
