// Benchmark: rollout against its peers on the same farm (real sshd targets, one per target on 127.0.23.x) and the
// same per-target shell text: rollout (client API: start, wait for the result), a tuned Ansible playbook (serial =
// window, forks = window, no facts, pipelining, ControlPersist; ansible-core pinned, installed into a venv under
// .rollout/bench on first use) and a bare parallel-ssh pool (Debian's pssh, pool size = window, each target's
// child steps in one session). Workloads: uniform (every target `sleep 1`) or skewed (0.2–3 s per target from a
// fixed seed, the same for all three), with one child step or three (`true`; sleep; `true`). Runs are interleaved
// (the tools' order rotates each run); figures are medians.
//   npm run bench:vs-peers -- [--runs 3] [--shapes 100/20] [--workloads uniform.1,skewed.1,uniform.3,skewed.3]
import path from 'node:path';
import { benchArgs, parseList, parseShapes } from './support/args';
import { checkMarks, childSteps, startFarm } from './support/farm';
import { ensureAnsible, ensureParallelSsh, runAnsible, runParallelSsh } from './support/peers';
import { rollingPlan } from './support/plans';
import { batchIdeal, durationsFor, fmt, median, slidingIdeal } from './support/stats';
import { startBenchTemporal } from './support/temporal';

const WORKLOADS = ['uniform.1', 'skewed.1', 'uniform.3', 'skewed.3'] as const;
const args = benchArgs('vs-peers', {
  shapes: { default: '100/20' },
  workloads: { default: WORKLOADS.join(',') },
});
const shapes = parseShapes(args.shapes);
const workloads = parseList(args.workloads, WORKLOADS, '--workloads');
const maxTargets = Math.max(...shapes.map((s) => s.targets));
const TOOLS = ['rollout', 'ansible', 'pool'] as const;
type Tool = (typeof TOOLS)[number];

const [ansible, pssh] = await Promise.all([ensureAnsible(), ensureParallelSsh()]);
const farm = await startFarm(maxTargets);
const temporal = await startBenchTemporal('bench-vs-peers');

interface Row {
  label: string;
  sliding: number;
  batch: number;
  walls: Record<Tool, number[]>;
}
const rows = new Map<string, Row>();

async function once(tool: Tool, label: string, shape: { targets: number; window: number }, workload: string) {
  const [kind, n] = workload.split('.') as ['uniform' | 'skewed', '1' | '3'];
  const steps = Number(n) as 1 | 3;
  const durations = durationsFor(kind, maxTargets);
  const run = farm.newRun(`${tool}-${label}`, durations);
  const targets = run.targets.slice(0, shape.targets);
  const scripts = childSteps(steps).map((w, k) => run.script(k, w));
  let seconds: number;
  if (tool === 'rollout') {
    const r = await temporal.run(rollingPlan(targets, shape.window, scripts));
    if (r.status !== 'succeeded') throw new Error(`rollout ${label}: ${r.status}`);
    seconds = r.seconds;
  } else if (tool === 'ansible') {
    seconds = await runAnsible(ansible, path.join(run.dir, 'ansible'), targets, shape.window, scripts);
  } else {
    seconds = await runParallelSsh(pssh, path.join(run.dir, 'pssh'), targets, shape.window, scripts);
  }
  checkMarks(run.marks(), shape.targets, steps, `${tool} ${label}`);
  const d = durations.slice(0, shape.targets);
  const row = rows.get(label) ?? {
    label,
    sliding: slidingIdeal(d, shape.window),
    batch: batchIdeal(d, shape.window),
    walls: { rollout: [], ansible: [], pool: [] },
  };
  row.walls[tool].push(seconds);
  rows.set(label, row);
  console.error(`${tool} ${label}: ${fmt(seconds)} s`);
}

try {
  // Warm-up for every tool (bundle and first workflow tasks; Ansible's first start; first logins).
  const warm = { targets: Math.min(maxTargets, 5), window: 5 };
  for (const tool of TOOLS) await once(tool, 'warmup', warm, 'uniform.1');
  rows.delete('warmup');
  for (let r = 0; r < args.runs; r++) {
    for (const shape of shapes) {
      for (const workload of workloads) {
        const label = `${shape.targets}x${shape.window}.${workload.replace('.', '.steps')}`;
        for (let i = 0; i < TOOLS.length; i++) await once(TOOLS[(i + r) % TOOLS.length]!, label, shape, workload);
      }
    }
  }
  const summary: string[] = [];
  for (const row of rows.values()) {
    const w = Object.fromEntries(TOOLS.map((t) => [t, median(row.walls[t])])) as Record<Tool, number>;
    const p = `vs_peers.${row.label}`;
    console.log(`${p}.rollout_s: ${fmt(w.rollout)}`);
    console.log(`${p}.ansible_s: ${fmt(w.ansible)}`);
    console.log(`${p}.pool_s: ${fmt(w.pool)}`);
    console.log(`${p}.sliding_ideal_s: ${fmt(row.sliding)}`);
    console.log(`${p}.batch_ideal_s: ${fmt(row.batch)}`);
    console.log(`${p}.ratio_vs_ansible: ${fmt(w.rollout / w.ansible)}`);
    console.log(`${p}.ratio_vs_pool: ${fmt(w.rollout / w.pool)}`);
    summary.push(`${row.label} vs ansible ×${fmt(w.rollout / w.ansible)} vs pool ×${fmt(w.rollout / w.pool)}`);
  }
  console.log(`summary: rollout (median of ${args.runs}) ${summary.join('; ')}`);
} finally {
  await temporal.stop();
  await farm.stop();
}
