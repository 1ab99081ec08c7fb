// Engine-only cost: local transport, N targets window W, K child steps `true`. Prints wall and CPU seconds of this
// process (worker) and of the dev server process.
import { readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { startBenchTemporal } from '../bench/support/temporal';
import { validateConfig } from '../src/config/load';
import { buildPlan } from '../src/config/plan';
const [n, w, k] = (process.argv[2] ?? '100/20/3').split('/').map(Number) as [number, number, number];
const temporal = await startBenchTemporal('engine');
const serverPid = Number(execSync(`pgrep -f "temporal server start-dev.*${temporal.address.split(':')[1]}"`).toString().trim().split('\n')[0]);
const cpuOf = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100; };
const plan = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  const targets = Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { transport: 'local', tags: ['web'], workdir: path.join(dir, `t${i}`) }]));
  const cfg = validateConfig({ targets, deployables: { e: { targets: ['tag:web'], process: [{ type: 'rolling', name: 'deploy', window: w, childSteps: Array.from({ length: k }, (_, j) => ({ name: `c${j}`, script: 'true' })) }] } } }, 'engine', '/');
  return buildPlan(cfg, { deployable: 'e', release: 'v1', requestedBy: 'U' });
};
await temporal.run(plan());
for (let r = 0; r < 2; r++) {
  const c0 = process.cpuUsage(); const s0 = cpuOf(serverPid);
  const res = await temporal.run(plan());
  const c1 = process.cpuUsage(c0); const s1 = cpuOf(serverPid);
  console.log(`engine ${n}/${w}/${k}: wall ${res.seconds.toFixed(2)} s, worker cpu ${((c1.user + c1.system) / 1e6).toFixed(2)} s (incl. children? no), server cpu ${(s1 - s0).toFixed(2)} s, ${res.status}`);
}
await temporal.stop();
process.exit(0);
