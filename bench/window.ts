// Benchmark: a 20-target rolling step with window 5 whose only child step is `sleep 1`. Ideal wall time is
// 20 / 5 × 1 s = 4 s; this prints the measured time and the ratio, for the local transport and for real sshd
// targets, side by side in one run (these machines are noisy: compare ratios, not seconds).
//   npm run bench:window            (ROLLOUT_BENCH_RUNS=3 to repeat)
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { LocalTransport } from '../activities/transports/local';
import { SshTransport } from '../activities/transports/ssh';
import { validateConfig } from '../src/config/load';
import { buildPlan } from '../src/config/plan';
import { startRollout } from '../src/temporal/client';
import { startScratchDevServer } from '../dev/scratchDevServer';
import { createRolloutWorker, installRuntimeLogging } from '../src/temporal/worker';
import { startSshd } from '../test/support/sshd';
import type { TargetPlan } from '../domain/plan';

installRuntimeLogging('WARN');
const TARGETS = 20;
const WINDOW = 5;
const IDEAL_S = (TARGETS / WINDOW) * 1;
const runs = Number(process.env.ROLLOUT_BENCH_RUNS ?? 1);

const server = await startScratchDevServer('bench-temporal-');
const sshd = await startSshd({ count: 4, baseAddress: '127.0.0.91', namePrefix: 'h' });
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const native = await NativeConnection.connect({ address: server.address });
const ssh = new SshTransport();
const local = new LocalTransport();
const taskQueue = 'bench-window';
const worker = await createRolloutWorker({
  connection: native,
  namespace: 'default',
  taskQueue,
  deps: { transports: { ssh, local } },
});
const running = worker.run();

function config(targets: TargetPlan[]) {
  return validateConfig(
    {
      targets: Object.fromEntries(
        targets.map((t) => [
          t.name,
          t.transport === 'ssh'
            ? {
                host: t.host,
                port: t.port,
                user: t.user,
                privateKeyPath: t.privateKeyPath,
                knownHostsPath: t.knownHostsPath,
                tags: ['web'],
                workdir: t.workdir,
              }
            : { transport: 'local', tags: ['web'], workdir: t.workdir },
        ]),
      ),
      deployables: {
        farm: {
          targets: ['tag:web'],
          process: [
            { type: 'rolling', name: 'deploy', window: WINDOW, childSteps: [{ name: 'work', script: 'sleep 1' }] },
          ],
        },
      },
    },
    'bench',
    '/',
  );
}

const localDir = mkdtempSync(path.join(os.tmpdir(), 'bench-local-'));
const localTargets: TargetPlan[] = Array.from({ length: TARGETS }, (_, i) => ({
  name: `l${i + 1}`,
  transport: 'local',
  host: 'localhost',
  port: 22,
  user: '',
  tags: ['web'],
  workdir: path.join(localDir, `l${i + 1}`),
  strictHostKeyChecking: true,
  variables: {},
}));
// 20 ssh targets over 4 sshd hosts (5 each), each with its own workdir and lock.
const base = sshd.targetsFor('bench');
const sshTargets: TargetPlan[] = Array.from({ length: TARGETS }, (_, i) => {
  const t = base[i % base.length] as TargetPlan;
  return { ...t, name: `s${i + 1}`, workdir: `${t.workdir}-${i + 1}` };
});

async function measure(label: string, targets: TargetPlan[]): Promise<number> {
  const plan = buildPlan(config(targets), { deployable: 'farm', release: 'v1', requestedBy: 'bench' });
  const t0 = performance.now();
  const handle = await startRollout(client, taskQueue, plan);
  const result = await handle.result();
  const s = (performance.now() - t0) / 1000;
  if (result.status !== 'succeeded') throw new Error(`${label}: ${result.status}`);
  return s;
}

try {
  await measure('warm-up', localTargets.slice(0, 5));
  const rows: string[] = [];
  for (let r = 0; r < runs; r++) {
    const l = await measure('local', localTargets);
    const s = await measure('ssh', sshTargets);
    rows.push(
      `run ${r + 1}: local ${l.toFixed(2)} s (×${(l / IDEAL_S).toFixed(2)} ideal)   ssh ${s.toFixed(2)} s (×${(s / IDEAL_S).toFixed(2)} ideal)   ssh/local ×${(s / l).toFixed(2)}`,
    );
  }
  console.log(`${TARGETS} targets, window ${WINDOW}, child step \`sleep 1\`; ideal ${IDEAL_S.toFixed(1)} s`);
  for (const row of rows) console.log(row);
} finally {
  worker.shutdown();
  await running;
  await native.close();
  await connection.close();
  await ssh.close();
  await sshd.stop();
  await server.stop();
}
