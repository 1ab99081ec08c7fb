// A farm of real OpenSSH targets on loopback (one sshd per target, addresses from 127.0.23.1 up: the benchmarks'
// own range), the per-target work every tool runs, and the timestamps that work writes on the targets.
//
// Every child step is the same shell text for rollout, Ansible and the parallel-ssh pool:
//   set -- $SSH_CONNECTION; M=<run>/marks/$3; echo "s <k> $(date +%s%N)" >> $M; <work>; echo "e <k> …" >> $M
// where $3 is the address the target listens on (so the script finds its marker file and its duration without
// any per-tool variable), and <work> is `true` or `read D < <run>/dur/$3; sleep $D`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TargetPlan } from '../../domain/plan';
import { startSshd, type SshdFixture } from '../../dev/farm/sshd';

export const BENCH_BASE_ADDRESS = process.env.ROLLOUT_BENCH_BASE_ADDRESS ?? '127.0.23.1';

export type Work = 'true' | 'sleep';

/** The child steps of a shape: one (`sleep`) or three (`true`; `sleep`; `true`). */
export function childSteps(n: 1 | 3): Work[] {
  return n === 1 ? ['sleep'] : ['true', 'sleep', 'true'];
}

export interface Farm {
  sshd: SshdFixture;
  targets: TargetPlan[];
  /** A fresh run folder with each target's duration file; scripts write their marks under it. */
  newRun(label: string, durations: number[]): FarmRun;
  stop(): Promise<void>;
}

export interface FarmRun {
  dir: string;
  /** Targets with workdirs of this run's own (so runs never share locks). */
  targets: TargetPlan[];
  script(k: number, work: Work): string;
  marks(): TargetMarks[];
}

export interface TargetMarks {
  address: string;
  /** Start and end of child step k, ms since the epoch (fractional). */
  steps: Array<{ start: number; end: number }>;
}

let runSeq = 0;

export async function startFarm(count: number, baseAddress = BENCH_BASE_ADDRESS): Promise<Farm> {
  const sshd = await startSshd({ count, baseAddress, namePrefix: 't', startTimeoutMs: 60_000 });
  const targets = sshd.targets;
  return {
    sshd,
    targets,
    newRun(label, durations) {
      if (durations.length !== targets.length) throw new Error('newRun: one duration per target');
      const dir = path.join(sshd.dir, 'runs', `${++runSeq}-${label}`);
      mkdirSync(path.join(dir, 'marks'), { recursive: true });
      mkdirSync(path.join(dir, 'dur'), { recursive: true });
      targets.forEach((t, i) => writeFileSync(path.join(dir, 'dur', t.host), `${durations[i]}\n`));
      const runTargets = sshd.targetsFor(`run-${runSeq}`);
      return {
        dir,
        targets: runTargets,
        script: (k, work) => stepScript(dir, k, work),
        marks: () => readMarks(dir),
      };
    },
    stop: () => sshd.stop(),
  };
}

export function stepScript(dir: string, k: number, work: Work): string {
  const w = work === 'sleep' ? `read D < ${dir}/dur/$3; sleep $D` : 'true';
  return `set -- $SSH_CONNECTION; M=${dir}/marks/$3; echo "s ${k} $(date +%s%N)" >> $M; ${w}; echo "e ${k} $(date +%s%N)" >> $M`;
}

function readMarks(dir: string): TargetMarks[] {
  const out: TargetMarks[] = [];
  for (const address of readdirSync(path.join(dir, 'marks'))) {
    const steps: Array<{ start: number; end: number }> = [];
    for (const line of readFileSync(path.join(dir, 'marks', address), 'utf8').split('\n')) {
      const m = /^([se]) (\d+) (\d+)$/.exec(line.trim());
      if (!m) continue;
      const k = Number(m[2]);
      const ms = Number(BigInt(m[3]!) / 1000n) / 1000;
      steps[k] ??= { start: NaN, end: NaN };
      if (m[1] === 's') steps[k].start = ms;
      else steps[k].end = ms;
    }
    out.push({ address, steps });
  }
  return out;
}

/**
 * The hand-over gaps, in ms, from the marks alone:
 *  - slot: a slot freed (a target's last child step ended) → the next target's first child step started. Targets
 *    start in order of a FIFO sliding window, so the j-th start (j ≥ window) took the slot of the (j − window)-th
 *    end.
 *  - child: child step k ended → child step k+1 of the same target started.
 */
export function gaps(marks: TargetMarks[], window: number): { slot: number[]; child: number[] } {
  const done = marks.filter((m) => m.steps.length > 0 && m.steps.every((s) => Number.isFinite(s.start + s.end)));
  const starts = done.map((m) => m.steps[0]!.start).sort((a, b) => a - b);
  const ends = done.map((m) => m.steps[m.steps.length - 1]!.end).sort((a, b) => a - b);
  const slot: number[] = [];
  for (let j = window; j < starts.length; j++) slot.push(starts[j]! - ends[j - window]!);
  const child: number[] = [];
  for (const m of done) for (let k = 1; k < m.steps.length; k++) child.push(m.steps[k]!.start - m.steps[k - 1]!.end);
  return { slot, child };
}

/** Checks every target ran every child step once; returns how many targets did. */
export function checkMarks(marks: TargetMarks[], targets: number, steps: number, label: string): void {
  const complete = marks.filter(
    (m) => m.steps.length === steps && m.steps.every((s) => Number.isFinite(s.start + s.end)),
  );
  if (complete.length !== targets) {
    throw new Error(`${label}: ${complete.length}/${targets} targets wrote all ${steps} child-step marks`);
  }
}
