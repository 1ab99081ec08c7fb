// Benchmark: how fast the `rollout` command answers. Spawns `node bin/rollout.mjs --help` (the compiled CLI in dist/,
// built by `npm ci`'s prepare) and `rollout --version`, interleaved, and times each to the first byte on stdout and
// to its exit. Prints p50 / p99 / max in ms and one summary line.
//   npm run bench:cli -- [--runs 15]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './support/args';
import { fmt, spread } from './support/stats';

const args = benchArgs('cli', {});
const bin = fileURLToPath(new URL('../bin/rollout.mjs', import.meta.url));
const runs = Math.max(args.runs, 1);

function timeOne(argv: string[]): Promise<{ firstByte: number; exit: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstByte: number | undefined;
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => (firstByte ??= performance.now() - t0));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`rollout ${argv.join(' ')} exited ${code}`));
      resolve({ firstByte: firstByte ?? Number.NaN, exit: performance.now() - t0 });
    });
  });
}

const commands = { help: ['--help'], version: ['--version'] } as const;
const acc = new Map<string, { firstByte: number[]; exit: number[] }>();
await timeOne(['--version']); // warm the page cache
for (let r = 0; r < runs; r++) {
  for (const [name, argv] of Object.entries(commands)) {
    const t = await timeOne([...argv]);
    const a = acc.get(name) ?? { firstByte: [], exit: [] };
    a.firstByte.push(t.firstByte);
    a.exit.push(t.exit);
    acc.set(name, a);
  }
}
const summary: string[] = [];
for (const [name, a] of acc) {
  for (const [what, xs] of [
    ['first_byte_ms', a.firstByte],
    ['exit_ms', a.exit],
  ] as const) {
    const s = spread(xs);
    console.log(`cli.${name}.${what}: p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} max ${fmt(s.max)} (n ${s.n})`);
  }
  summary.push(`${name} first byte p50 ${fmt(spread(a.firstByte).p50)} ms`);
}
console.log(`summary: ${summary.join(', ')}`);
