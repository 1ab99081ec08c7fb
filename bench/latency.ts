// Benchmark: the human loop, through the real Bolt app (signed HTTP requests) and the Slack stand-in, real
// Temporal and a real sshd target (127.0.23.201). Each sample is one rollout of
//   first (script: writes `date +%s%N`) → approve (manual step, Proceed button) → after (script: writes it too)
// and gives: slash command → HTTP ack; slash command → first script started on the target; Proceed click →
// HTTP ack; Proceed click → the workflow acting on it (the next script started on the target).
//   npm run bench:latency -- [--samples 50]
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ACTION_MANUAL_PROCEED } from '../activities/slack/blocks';
import { startSshd } from '../dev/farm/sshd';
import { validateConfig } from '../src/config/load';
import { benchArgs } from './support/args';
import { targetConfig } from './support/plans';
import {
  nowMs,
  roots,
  rolloutIdOf,
  startBenchBot,
  startBenchStandin,
  threadOf,
  waitFor,
  type BenchBot,
} from './support/slack';
import { fmt, spread } from './support/stats';
import { startBenchTemporal } from './support/temporal';
import { rolloutHandle } from '../src/temporal/client';

const args = benchArgs('latency', { samples: { default: '50' } });
const samples = Number(args.samples);
if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples: a positive integer, got ${args.samples}`);

const address = process.env.ROLLOUT_BENCH_LATENCY_ADDRESS ?? '127.0.23.201';
const sshd = await startSshd({ count: 1, baseAddress: address, namePrefix: 'l' });
const temporal = await startBenchTemporal('bench-latency');
const standin = await startBenchStandin();
const marks = path.join(sshd.dir, 'latency-marks');
mkdirSync(marks, { recursive: true });
const target = sshd.targetsFor('latency')[0]!;
const config = validateConfig(
  {
    targets: { [target.name]: targetConfig(target) },
    deployables: {
      gated: {
        targets: ['tag:web'],
        starters: ['UALICE'],
        approvers: ['UBOB'],
        process: [
          { name: 'first', script: `echo "$ROLLOUT_RELEASE $(date +%s%N)" >> ${marks}/first` },
          { type: 'manual', name: 'approve', instructions: 'Proceed when ready', approvers: ['UBOB'] },
          { name: 'after', script: `echo "$ROLLOUT_RELEASE $(date +%s%N)" >> ${marks}/after` },
        ],
      },
    },
  },
  'bench',
  '/',
);

function markOf(file: string, release: string): number | undefined {
  const p = path.join(marks, file);
  if (!existsSync(p)) return undefined;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const [r, ns] = line.trim().split(' ');
    if (r === release && ns) return Number(BigInt(ns) / 1000n) / 1000;
  }
  return undefined;
}

let bot: BenchBot | undefined;
const ack: number[] = [];
const toFirst: number[] = [];
const clickAck: number[] = [];
const clickToAction: number[] = [];
try {
  bot = await startBenchBot({
    address: temporal.address,
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    standin,
    config,
  });
  // One warm-up sample (bundles, first workflow tasks, first SSH login), then the measured ones.
  for (let i = 0; i <= samples; i++) {
    const release = `v${i}`;
    const before = roots(standin).length;
    const t0 = nowMs();
    const a = await bot.command(`gated ${release}`, 'UALICE');
    if (a.status !== 200) throw new Error(`slash command answered HTTP ${a.status}`);
    const first = await waitFor(() => markOf('first', release), 60_000, `the first script of ${release}`);
    const root = await waitFor(() => roots(standin)[before], 30_000, `the root message of ${release}`);
    const card = structuredClone(
      await waitFor(
        () => threadOf(standin, root).find((m) => JSON.stringify(m.blocks ?? []).includes(ACTION_MANUAL_PROCEED)),
        60_000,
        `the manual card of ${release}`,
      ),
    );
    const t1 = nowMs();
    const c = await bot.click(card, ACTION_MANUAL_PROCEED, 'UBOB');
    if (c.status !== 200) throw new Error(`click answered HTTP ${c.status}`);
    const after = await waitFor(() => markOf('after', release), 60_000, `the script after the decision of ${release}`);
    const result = await rolloutHandle(temporal.client, rolloutIdOf(root)).result();
    if (result.status !== 'succeeded') throw new Error(`${release}: ${result.status}`);
    if (i === 0) continue;
    ack.push(a.ms);
    toFirst.push(first - t0);
    clickAck.push(c.ms);
    clickToAction.push(after - t1);
    if (i % 10 === 0) console.error(`${i}/${samples} samples`);
  }
  const line = (name: string, xs: number[]) => {
    const s = spread(xs);
    console.log(`latency.${name}_ms: p50 ${fmt(s.p50, 0)} p99 ${fmt(s.p99, 0)} max ${fmt(s.max, 0)} (n ${s.n})`);
    return s;
  };
  const sAck = line('slash_to_ack', ack);
  const sFirst = line('slash_to_first_script', toFirst);
  line('click_to_ack', clickAck);
  const sAct = line('click_to_action', clickToAction);
  console.log(
    `summary: ack p99 ${fmt(sAck.p99, 0)} ms, slash → first script p50 ${fmt(sFirst.p50, 0)} ms, click → action p50 ${fmt(sAct.p50, 0)} ms (${samples} samples)`,
  );
} finally {
  await bot?.stop();
  await standin.close();
  await temporal.stop();
  await sshd.stop();
}
