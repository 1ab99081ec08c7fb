// What the run-once wrapper costs a target per run, with bash's loadable builtins and without, side by side: one
// pooled loop (the same POOL_LOOP a pooled SSH channel or local shell runs) per variant, blocks of sequential runs
// of a trivial script interleaved between the variants, each run removing the previous one as a chain's child
// step does. CPU is counted through a cgroup-v1 cpuacct group per variant (the loop and everything it forks); where
// that is not writable the line says so and only wall time is printed.
//
//   npm run bench:wrapper -- [--runs 3] [--block 100] [--script true]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildRemoteCommand,
  DEFAULT_LOADABLES_PATH,
  newPoolMarker,
  POOL_LOOP_COMMAND,
  poolRequest,
} from '../activities/transports/remoteCommand';
import { benchArgs } from './support/args';
import { cpuacctGroup, type CpuacctGroup } from './support/cpu';
import { median } from './support/stats';

const args = benchArgs('wrapper', { block: { default: '100' }, script: { default: 'true' } });
const block = Number(args.block);
if (!Number.isInteger(block) || block < 1) throw new Error(`--block: a positive integer, got ${args.block}`);

interface Variant {
  name: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcessWithoutNullStreams;
  group: CpuacctGroup | undefined;
  workdir: string;
  out: string;
  err: string;
  prev: string | undefined;
  n: number;
  cpuPerRun: number[];
  wallPerRun: number[];
}

function start(name: string, env: NodeJS.ProcessEnv): Variant {
  const group = cpuacctGroup(`rollout-bench-wrapper-${name}`);
  // The loop joins the group before it execs bash (so everything it forks counts there).
  const join = group ? `echo $$ > '${group.path}/tasks' && ` : '';
  const child = spawn('sh', ['-c', `${join}${POOL_LOOP_COMMAND}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const v: Variant = {
    name,
    env,
    child,
    group,
    workdir: mkdtempSync(path.join(os.tmpdir(), `bench-wrapper-${name}-`)),
    out: '',
    err: '',
    prev: undefined,
    n: 0,
    cpuPerRun: [],
    wallPerRun: [],
  };
  child.stdout.on('data', (d: Buffer) => (v.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (v.err += d.toString()));
  return v;
}

const cpuMs = (v: Variant): number | undefined => v.group?.usageMs();

async function runOnce(v: Variant): Promise<void> {
  const runId = `bw-${v.name}-${v.n++}`;
  const { command, stdin } = buildRemoteCommand({
    workdir: v.workdir,
    env: { BENCH: '1' },
    runId,
    script: args.script,
    timeoutMs: 60_000,
    ...(v.prev ? { cleanupRunIds: [v.prev] } : {}),
  });
  const marker = newPoolMarker();
  v.out = '';
  v.err = '';
  const bytes = poolRequest(marker, command, stdin);
  if (!bytes) throw new Error('the request cannot go through the pooled loop');
  const ended = new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (v.out.includes(marker) && v.err.includes(marker)) {
        v.child.stdout.off('data', check);
        v.child.stderr.off('data', check);
        v.child.off('exit', gone);
        resolve();
      }
    };
    const gone = (): void => reject(new Error(`${v.name}: the loop exited: ${v.err}`));
    v.child.stdout.on('data', check);
    v.child.stderr.on('data', check);
    v.child.once('exit', gone);
  });
  v.child.stdin.write(bytes);
  await ended;
  if (!/^S reason=exited exit=0 /m.test(v.out)) throw new Error(`${v.name}: run ${runId} did not succeed: ${v.out}`);
  v.prev = runId;
}

async function blockOf(v: Variant): Promise<void> {
  const c0 = cpuMs(v);
  const t0 = performance.now();
  for (let i = 0; i < block; i++) await runOnce(v);
  const wall = performance.now() - t0;
  const c1 = cpuMs(v);
  v.wallPerRun.push(wall / block);
  if (c0 !== undefined && c1 !== undefined) v.cpuPerRun.push((c1 - c0) / block);
}

const variants = [
  start('builtins', { ...process.env }),
  start('programs', { ...process.env, ROLLOUT_BASH_LOADABLES: '' }),
];
try {
  for (const v of variants) await runOnce(v); // warm up
  for (let r = 0; r < args.runs; r++) {
    // Interleaved, the order alternating per repetition.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) await blockOf(v);
  }
  const [on, off] = variants as [Variant, Variant];
  console.log(`script: ${args.script}`);
  console.log(`runs_per_block: ${block}`);
  console.log(`blocks_per_variant: ${args.runs}`);
  console.log(`loadables_path: ${DEFAULT_LOADABLES_PATH}`);
  for (const v of variants) {
    console.log(`${v.name}_wall_ms_per_run: ${median(v.wallPerRun).toFixed(2)}`);
    if (v.cpuPerRun.length) console.log(`${v.name}_target_cpu_ms_per_run: ${median(v.cpuPerRun).toFixed(2)}`);
  }
  if (on.cpuPerRun.length && off.cpuPerRun.length) {
    const ratio = median(on.cpuPerRun) / median(off.cpuPerRun);
    console.log(`cpu_ratio_builtins_vs_programs: ${ratio.toFixed(2)}`);
    console.log(
      `summary: target CPU per run ${median(on.cpuPerRun).toFixed(2)} ms with the builtins, ${median(off.cpuPerRun).toFixed(2)} ms without (×${ratio.toFixed(2)})`,
    );
  } else {
    console.log('target_cpu: not measured (no writable cgroup-v1 cpuacct)');
    console.log(
      `summary: wall per run ${median(on.wallPerRun).toFixed(2)} ms with the builtins, ${median(off.wallPerRun).toFixed(2)} ms without`,
    );
  }
} finally {
  for (const v of variants) {
    v.child.stdin.end();
    await new Promise((r) => (v.child.exitCode !== null ? r(undefined) : v.child.once('exit', r)));
    rmSync(v.workdir, { recursive: true, force: true });
    v.group?.close();
  }
}
