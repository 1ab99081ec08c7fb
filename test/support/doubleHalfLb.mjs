// The double-half test's load-balancer hook (run by the worker-host hooks of a double-half step): talks to HAProxy's
// runtime API over its admin socket. Usage: node doubleHalfLb.mjs add|remove
//   add:    for every target in ROLLOUT_TARGETS_JSON, `add server <backend>/<name> <AppAddr>` and enable it, then
//           wait until HAProxy's health check has it UP;
//   remove: drain every target, wait for its sessions to end, then maint and `del server` (absent ones are fine),
//           and write a marker file <MarkerDir>/decommissioned-<name> for each.
// Reads ROLLOUT_VAR_LBSOCKET, ROLLOUT_VAR_LBBACKEND, ROLLOUT_VAR_MARKERDIR.
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const socket = process.env.ROLLOUT_VAR_LBSOCKET;
const backend = process.env.ROLLOUT_VAR_LBBACKEND ?? 'web';
const markers = process.env.ROLLOUT_VAR_MARKERDIR;
const targets = JSON.parse(process.env.ROLLOUT_TARGETS_JSON ?? '[]');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cmd(line) {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('error', reject);
    s.on('end', () => resolve(out));
    s.write(`${line}\n`);
  });
}

/** name → operational state (2 = UP), admin state, current sessions. */
async function servers() {
  const out = await cmd(`show servers state ${backend}`);
  const map = new Map();
  for (const l of out.split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length > 6 && /^\d+$/.test(f[0])) map.set(f[3], { op: Number(f[5]), admin: Number(f[6]) });
  }
  return map;
}
async function sessions(name) {
  const out = await cmd(`show stat`);
  for (const l of out.split('\n')) {
    const f = l.split(',');
    if (f[0] === backend && f[1] === name) return Number(f[4] || 0);
  }
  return 0;
}

const mode = process.argv[2];
if (mode === 'add') {
  for (const t of targets) {
    const addr = t.variables?.AppAddr;
    if (!addr) throw new Error(`${t.name}: no AppAddr variable`);
    const r = await cmd(`add server ${backend}/${t.name} ${addr} check inter 300ms fall 2 rise 1`);
    if (!/New server registered/.test(r)) throw new Error(`add server ${t.name}: ${r.trim()}`);
    await cmd(`enable health ${backend}/${t.name}`);
    await cmd(`enable server ${backend}/${t.name}`);
    console.log(`added ${t.name} (${addr})`);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const st = await servers();
    if (targets.every((t) => st.get(t.name)?.op === 2)) break;
    if (Date.now() > deadline) throw new Error(`not UP in time: ${JSON.stringify([...st])}`);
    await sleep(100);
  }
  console.log('all UP');
} else if (mode === 'remove') {
  for (const t of targets) {
    const st = await servers();
    if (st.has(t.name)) {
      await cmd(`set server ${backend}/${t.name} state drain`);
      const deadline = Date.now() + 10_000;
      while ((await sessions(t.name)) > 0 && Date.now() < deadline) await sleep(100);
      await cmd(`set server ${backend}/${t.name} state maint`);
      await cmd(`shutdown sessions server ${backend}/${t.name}`);
      const r = await cmd(`del server ${backend}/${t.name}`);
      console.log(`removed ${t.name}: ${r.trim()}`);
    } else console.log(`${t.name} was not in the load balancer`);
    writeFileSync(
      join(markers, `decommissioned-${t.name}`),
      `${process.env.ROLLOUT_HALF} ${process.env.ROLLOUT_RELEASE}\n`,
    );
  }
} else {
  throw new Error(`usage: doubleHalfLb.mjs add|remove`);
}
