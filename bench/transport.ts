// What one script run costs through SshTransport on a warm connection (README "Performance", Transport):
// `true` run sequentially on one target (p50 wall, machine CPU jiffies per run from /proc/stat), then `true` and
// `sleep 1` on N targets at once (wall). Real sshd targets on 127.0.27.x.
//
//   npx tsx bench/transport.ts [targets=20] [--no-pool]
import { readFileSync } from 'node:fs';
import { startSshd } from '../dev/farm/sshd';
import { SshTransport } from '../activities/transports/ssh';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);
const pool = !process.argv.includes('--no-pool');
const sshd = await startSshd({ count: n, baseAddress: '127.0.27.1', namePrefix: 'm', startTimeoutMs: 60_000 });
const targets = sshd.targetsFor('transport-bench');
const tr = new SshTransport(pool ? {} : { poolChannels: 0 });
let seq = 0;
const one = async (t: (typeof targets)[number], script = 'true'): Promise<number> => {
  const t0 = performance.now();
  const r = await tr.run({ target: t, script, env: {}, timeoutMs: 60_000, runId: `tb-${++seq}-${process.pid}` });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode} ${r.outcome}`);
  return performance.now() - t0;
};
const jiffies = (): number => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return f[0]! + f[1]! + f[2]!; // user + nice + system
};
const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

await one(targets[0]!);
const times: number[] = [];
let j0 = jiffies();
for (let i = 0; i < 20; i++) times.push(await one(targets[0]!));
let j1 = jiffies();
console.log(`pool: ${pool ? 'on' : 'off'}`);
console.log(`sequential_true_p50_ms: ${p50(times).toFixed(1)}`);
console.log(`sequential_true_cpu_jiffies_per_run: ${((j1 - j0) / 20).toFixed(1)}`);
for (const t of targets) await one(t);
for (const script of ['true', 'sleep 1']) {
  j0 = jiffies();
  const t0 = performance.now();
  await Promise.all(targets.map((t) => one(t, script)));
  j1 = jiffies();
  const name = script.replace(' ', '');
  console.log(`parallel_${n}_${name}_wall_ms: ${(performance.now() - t0).toFixed(0)}`);
  console.log(`parallel_${n}_${name}_cpu_jiffies: ${j1 - j0}`);
}
await tr.close();
await sshd.stop();
process.exit(0);
