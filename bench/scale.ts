// Benchmark: one rollout over many targets (default 1,000 and 10,000, local transport), window 5%, trivial
// scripts (a script step, then a rolling step with three child steps), started from Slack through the real Bolt
// app with notifications on through the stand-in. Prints wall, target-steps per second, the worker's peak RSS (the
// worker runs alone in a child process: its VmHWM, a high-water mark over the whole benchmark), history events and size per workflow (every run of the rollout workflow;
// the largest of a sample of each other workflow type), the summary and target-page query sizes against
// Temporal's limits (51,200 events / 50 MB per history; 2 MB per payload), and Slack calls per minute by method
// (average, and the busiest 60 s window).
//   npm run bench:scale -- [--targets 1000,10000] [--window 5%] [--transport local|ssh] [--runs 1]
// With --transport ssh the targets are spread over up to 200 sshd servers on 127.0.23.x (own workdirs each).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { status } from '@grpc/grpc-js';
import { startSshd, type SshdFixture } from '../dev/farm/sshd';
import type { TargetPlan } from '../domain/plan';
import { validateConfig } from '../src/config/load';
import { getSummary, getTargets, rolloutHandle } from '../src/temporal/client';
import { benchArgs } from './support/args';
import { BENCH_BASE_ADDRESS } from './support/farm';
import { targetConfig } from './support/plans';
import { roots, rolloutIdOf, startBenchBot, startBenchStandin, waitFor } from './support/slack';
import { fmt, median } from './support/stats';
import { startBenchTemporal } from './support/temporal';

const args = benchArgs('scale', {
  targets: { default: process.env.ROLLOUT_SCALE_TARGETS ?? '1000,10000' },
  transport: { default: 'local' },
  window: { default: '5%' },
});
const sizes = args.targets.split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--targets: positive integers, got "${s}"`);
  return n;
});
if (args.transport !== 'local' && args.transport !== 'ssh') throw new Error(`--transport: local or ssh`);
const CHILD_STEPS = 3;
const MAX_SSHD = 200;

let sshd: SshdFixture | undefined;
if (args.transport === 'ssh') {
  sshd = await startSshd({
    count: Math.min(MAX_SSHD, Math.max(...sizes)),
    baseAddress: BENCH_BASE_ADDRESS,
    namePrefix: 's',
    startTimeoutMs: 120_000,
  });
}
// The worker runs alone in a child process: its peak RSS (VmHWM) is the worker's own, not the benchmark's.
const temporal = await startBenchTemporal(
  'bench-scale',
  { maxConcurrentActivityTaskExecutions: 100 },
  { workerProcess: true },
);
const standin = await startBenchStandin();

function targetsFor(n: number): TargetPlan[] {
  if (sshd) {
    const base = sshd.targetsFor(`scale-${n}-${Date.now()}`);
    return Array.from({ length: n }, (_, i) => {
      const t = base[i % base.length]!;
      return { ...t, name: `t${i + 1}`, workdir: `${t.workdir}-${i + 1}` };
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-targets-'));
  return Array.from({ length: n }, (_, i) => ({
    name: `t${i + 1}`,
    transport: 'local' as const,
    host: 'localhost',
    port: 22,
    user: '',
    tags: ['web'],
    workdir: path.join(dir, `t${i + 1}`),
    strictHostKeyChecking: true,
    variables: {},
  }));
}

function configFor(targets: TargetPlan[]) {
  return validateConfig(
    {
      targets: Object.fromEntries(targets.map((t) => [t.name, targetConfig(t)])),
      deployables: {
        farm: {
          targets: ['tag:web'],
          starters: ['UALICE'],
          process: [
            { name: 'prepare', script: 'true' },
            {
              type: 'rolling',
              name: 'deploy',
              window: /^\d+$/.test(args.window) ? Number(args.window) : args.window,
              childSteps: [
                { name: 'a', script: 'echo a' },
                { name: 'b', script: 'set_output Ok True' },
                { name: 'c', script: 'echo c', if: 'Output.b.Ok == "True"' },
              ],
            },
          ],
        },
      },
    },
    'bench',
    '/',
  );
}

interface HistoryStat {
  type: string;
  runs: number;
  maxEvents: number;
  maxBytes: number;
}

/** History length and size per workflow type: every run of `rolloutId`, and up to 50 of the others. */
async function historyStats(client: Client, rolloutId: string, taskQueue: string): Promise<HistoryStat[]> {
  const byType = new Map<string, HistoryStat>();
  const seen = new Map<string, number>();
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    const mine = wf.workflowId === rolloutId;
    const type = mine ? `${wf.type} (this rollout)` : wf.type;
    const n = seen.get(type) ?? 0;
    if (!mine && n >= 50) continue;
    seen.set(type, n + 1);
    // The server's own counts (what its limits apply to), from the listing: fetching a 10,000-target run's history
    // failed, its pages are over the client's 4 MB gRPC limit ("Received message larger than max").
    // (A running workflow's listing carries no counts yet: describe gives its current ones.)
    const open =
      wf.status.name === 'RUNNING' ? await client.workflow.getHandle(wf.workflowId, wf.runId).describe() : wf;
    const events = open.historyLength;
    const bytes = open.historySize ?? 0;
    const s = byType.get(type) ?? { type, runs: 0, maxEvents: 0, maxBytes: 0 };
    s.runs++;
    s.maxEvents = Math.max(s.maxEvents, events);
    s.maxBytes = Math.max(s.maxBytes, bytes);
    byType.set(type, s);
  }
  return [...byType.values()];
}

async function waitForWorkflow(client: Client, id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.workflow.getHandle(id).describe();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The rollout's result, following its runs. The long poll behind result() fails with DEADLINE_EXCEEDED (or
 * UNAVAILABLE) when the dev server is slow to answer, as a 10,000-target run on a loaded machine made it: that is
 * not the rollout's end, so it asks again (before, the benchmark ended there and stopped the worker with it).
 */
async function resultOf(client: Client, id: string) {
  for (;;) {
    try {
      return await rolloutHandle(client, id).result();
    } catch (e) {
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (code !== status.DEADLINE_EXCEEDED && code !== status.UNAVAILABLE) throw e;
      console.error(`bench: result() of ${id}: ${(e as Error).message} (code ${String(code)}); asking again`);
    }
  }
}

/** The most calls of each method in any 60 s window. */
function busiestMinute(calls: Array<{ method: string; at: number }>): Record<string, number> {
  const by = new Map<string, number[]>();
  for (const c of calls) by.set(c.method, [...(by.get(c.method) ?? []), c.at]);
  const out: Record<string, number> = {};
  for (const [m, ts] of by) {
    ts.sort((a, b) => a - b);
    let best = 0;
    for (let i = 0, j = 0; i < ts.length; i++) {
      while (ts[i]! - ts[j]! >= 60_000) j++;
      best = Math.max(best, i - j + 1);
    }
    out[m] = best;
  }
  return out;
}

const summary: string[] = [];
try {
  for (const n of sizes) {
    const walls: number[] = [];
    for (let r = 0; r < args.runs; r++) {
      standin.reset();
      const targets = targetsFor(n);
      const bot = await startBenchBot({
        address: temporal.address,
        client: temporal.client,
        taskQueue: temporal.taskQueue,
        standin,
        config: configFor(targets),
      });
      try {
        const t0 = performance.now();
        const ack = await bot.command(`farm v${n}-${r}`, 'UALICE');
        if (ack.status !== 200) throw new Error(`slash command answered HTTP ${ack.status}`);
        const root = await waitFor(() => roots(standin)[0], 60_000, 'the root message');
        const rolloutId = rolloutIdOf(root);
        // The root message is posted before the workflow starts: wait for the workflow to exist.
        await waitForWorkflow(temporal.client, rolloutId);
        let maxSummary = 0;
        const poll = setInterval(() => {
          getSummary(temporal.client, rolloutId)
            .then((s) => (maxSummary = Math.max(maxSummary, JSON.stringify(s).length)))
            .catch(() => undefined);
        }, 5000);
        const result = await resultOf(temporal.client, rolloutId).finally(() => clearInterval(poll));
        const seconds = (performance.now() - t0) / 1000;
        if (result.status !== 'succeeded') throw new Error(`${n} targets: ${result.status}`);
        walls.push(seconds);
        // Let the last notifications land before counting them.
        await new Promise((res) => setTimeout(res, 2000));
        const p = `scale.${n}.run${r + 1}`;
        console.log(`${p}.wall_s: ${fmt(seconds, 1)}`);
        console.log(`${p}.target_steps_per_s: ${fmt((n * (CHILD_STEPS + 1)) / seconds, 1)}`);
        console.log(`${p}.worker_peak_rss_mb: ${fmt(temporal.peakRss() / 1e6, 0)} (VmHWM of the ${temporal.rssOf})`);
        console.log(`${p}.bench_process_rss_mb: ${fmt(process.memoryUsage.rss() / 1e6, 0)} (bot, stand-in, client)`);
        for (const h of await historyStats(temporal.client, rolloutId, temporal.taskQueue)) {
          console.log(
            `${p}.history.${h.type.replace(/\s+/g, '_')}: max ${h.maxEvents} events (limit 51,200 → ${fmt((h.maxEvents / 51200) * 100, 1)}%), max ${fmt(h.maxBytes / 1e6, 2)} MB (the server's history size; limit 50 MB), over ${h.runs} run(s)`,
          );
        }
        // Queries of the finished rollout (a closed workflow's query may replay its whole history): timed, and a
        // timeout is a figure, not a crash.
        const timedQuery = async <T>(q: () => Promise<T>) => {
          const q0 = performance.now();
          try {
            const v = await q();
            return { ms: performance.now() - q0, bytes: JSON.stringify(v).length };
          } catch (e) {
            return { ms: performance.now() - q0, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
          }
        };
        const rssBefore = temporal.peakRss();
        const qs = await timedQuery(() => getSummary(temporal.client, rolloutId));
        const qp = await timedQuery(() => getTargets(temporal.client, rolloutId, { offset: 0, limit: 50 }));
        const qt = await timedQuery(() => getTargets(temporal.client, rolloutId, { target: targets[n - 1]!.name }));
        const show = (q: { ms: number; bytes?: number; error?: string }) =>
          q.error ? `failed after ${fmt(q.ms, 0)} ms (${q.error})` : `${q.bytes} bytes in ${fmt(q.ms, 0)} ms`;
        console.log(
          `${p}.status_query_after_end: summary ${show(qs)}; page of 50 targets ${show(qp)}; one target ${show(qt)}`,
        );
        // The worker's high-water mark before and after those queries: a query that replays the closed workflow
        // raises it; one answered from the recorded result does not reach the worker.
        console.log(
          `${p}.worker_peak_rss_mb_around_queries: ${fmt(rssBefore / 1e6, 0)} before, ${fmt(temporal.peakRss() / 1e6, 0)} after`,
        );
        console.log(`${p}.summary_query_while_running_max_bytes: ${maxSummary}`);
        const calls = standin.calls.filter((c) => c.at >= Date.now() - seconds * 1000 - 5000);
        const busiest = busiestMinute(calls);
        const by: Record<string, number> = {};
        for (const c of calls) by[c.method] = (by[c.method] ?? 0) + 1;
        for (const [m, count] of Object.entries(by).sort()) {
          console.log(
            `${p}.slack.${m}: ${count} calls, ${fmt((count * 60) / seconds, 1)}/min average, busiest minute ${busiest[m]}`,
          );
        }
      } finally {
        await bot.stop();
      }
    }
    summary.push(
      `${n} targets ${fmt(median(walls), 1)} s (${fmt((n * (CHILD_STEPS + 1)) / median(walls), 1)} target-steps/s)`,
    );
  }
  console.log(
    `summary: ${summary.join(', ')}; worker peak RSS ${fmt(temporal.peakRss() / 1e6, 0)} MB (${temporal.rssOf}, ${args.transport} transport)`,
  );
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await standin.close();
  await temporal.stop();
  await sshd?.stop();
}
