// Benchmark: what the durable engine adds to the SSH work itself. Real sshd targets (one per target, on
// 127.0.23.x), shapes targets/window with one child step (`sleep 1`) or three (`true`; `sleep 1`; `true`); each
// child step writes `date +%s%N` marks on its target, from which the hand-over gaps are computed:
//   slot:  a slot freed (a target's last child step ended) → the next target's first child step started
//   child: child step k ended → child step k+1 of the same target started
// Runs are interleaved over the shapes; wall and gaps are medians over runs (gap percentiles over all samples).
//   npm run bench:overhead -- [--runs 3] [--shapes 20/5,100/20] [--steps 1,3]
import { benchArgs, parseList, parseShapes } from './support/args';
import { checkMarks, childSteps, gaps, startFarm } from './support/farm';
import { rollingPlan } from './support/plans';
import { durationsFor, fmt, median, slidingIdeal, spread } from './support/stats';
import { startBenchTemporal } from './support/temporal';
import { cpuMeter, cpuSpent, type CpuSample } from './support/cpu';

const args = benchArgs('overhead', { shapes: { default: '20/5,100/20' }, steps: { default: '1,3' } });
const shapes = parseShapes(args.shapes);
const stepCounts = parseList(args.steps, ['1', '3'], '--steps').map(Number) as Array<1 | 3>;
const maxTargets = Math.max(...shapes.map((s) => s.targets));

const farm = await startFarm(maxTargets);
const temporal = await startBenchTemporal('bench-overhead');
const cpu = cpuMeter(
  temporal.serverPid,
  farm.sshd.servers.map((s) => s.process.pid ?? 0).filter((pid) => pid > 0),
);
interface Acc {
  label: string;
  ideal: number;
  walls: number[];
  slot: number[];
  child: number[];
  cpu: CpuSample[];
}
const accs = new Map<string, Acc>();
try {
  // Warm-up: bundle, first workflow tasks, first SSH connections.
  {
    const run = farm.newRun(
      'warmup',
      durationsFor('uniform', maxTargets).map(() => 0),
    );
    const r = await temporal.run(rollingPlan(run.targets, maxTargets, [run.script(0, 'true')]));
    if (r.status !== 'succeeded') throw new Error(`warm-up: ${r.status}`);
  }
  for (let r = 0; r < args.runs; r++) {
    for (const shape of shapes) {
      for (const steps of stepCounts) {
        const label = `${shape.targets}x${shape.window}.steps${steps}`;
        const durations = durationsFor('uniform', maxTargets);
        const run = farm.newRun(label, durations);
        const targets = run.targets.slice(0, shape.targets);
        const scripts = childSteps(steps).map((w, k) => run.script(k, w));
        const c0 = cpu.sample();
        const res = await temporal.run(rollingPlan(targets, shape.window, scripts));
        const spent = cpuSpent(c0, cpu.sample());
        if (res.status !== 'succeeded') throw new Error(`${label}: ${res.status}`);
        const marks = run.marks();
        checkMarks(marks, shape.targets, steps, label);
        const g = gaps(marks, shape.window);
        const acc = accs.get(label) ?? {
          label,
          ideal: slidingIdeal(durations.slice(0, shape.targets), shape.window),
          walls: [],
          slot: [],
          child: [],
          cpu: [],
        };
        acc.walls.push(res.seconds);
        acc.slot.push(...g.slot);
        acc.child.push(...g.child);
        acc.cpu.push(spent);
        accs.set(label, acc);
        console.error(`run ${r + 1} ${label}: ${fmt(res.seconds)} s`);
      }
    }
  }
  const summary: string[] = [];
  for (const a of accs.values()) {
    const wall = median(a.walls);
    const ratio = wall / a.ideal;
    console.log(`overhead.${a.label}.wall_s: ${fmt(wall)}`);
    console.log(`overhead.${a.label}.ideal_s: ${fmt(a.ideal)}`);
    console.log(`overhead.${a.label}.overhead_ratio: ${fmt(ratio)}`);
    for (const [name, xs] of [
      ['slot_freed_to_next_start_ms', a.slot],
      ['child_end_to_next_child_start_ms', a.child],
    ] as const) {
      if (xs.length === 0) continue;
      const s = spread(xs);
      console.log(
        `overhead.${a.label}.${name}: p50 ${fmt(s.p50, 0)} p99 ${fmt(s.p99, 0)} max ${fmt(s.max, 0)} (n ${s.n})`,
      );
    }
    // CPU of the run, medians over runs: per child step, and the whole run's against its wall time on all cores.
    const perStep = (xs: number[]) => fmt(median(xs) / (targetsOf(a.label) * stepsOf(a.label)), 1);
    const t = a.cpu.map((c) => c.targetsMs).filter((x): x is number => x !== undefined);
    console.log(
      `overhead.${a.label}.cpu_ms_per_child_step: worker ${perStep(a.cpu.map((c) => c.workerMs))} server ${perStep(
        a.cpu.map((c) => c.serverMs),
      )} targets ${t.length === a.cpu.length ? perStep(t) : 'n/a'}`,
    );
    summary.push(`${a.label} ×${fmt(ratio)}`);
  }
  console.log(`summary: overhead_ratio (median of ${args.runs}) ${summary.join(', ')}`);
} finally {
  cpu.close();
  await temporal.stop();
  await farm.stop();
}

function targetsOf(label: string): number {
  return Number(/^(\d+)x/.exec(label)?.[1] ?? 1);
}

function stepsOf(label: string): number {
  return Number(/steps(\d+)$/.exec(label)?.[1] ?? 1);
}
