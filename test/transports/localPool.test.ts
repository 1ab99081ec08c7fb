// The local transport's pooled shells (activities/transports/localPool.ts): reuse, the cap, idle shells closing,
// and shells that must never be reused. What a run must get right over a pooled shell (exit codes, output,
// variables, timeouts, cancels, the lock) is behaviour.test.ts's, which runs the local transport pooled.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { LocalTransport, type LocalTransportOptions } from '../../activities/transports/local';
import { TransportError, type ScriptRequest } from '../../activities/transports/types';

const transports: LocalTransport[] = [];
function transport(opts: LocalTransportOptions = {}): LocalTransport {
  const t = new LocalTransport({ killGraceMs: 500, ...opts });
  transports.push(t);
  return t;
}
afterAll(async () => {
  for (const t of transports) await t.close();
});

function target(name: string): TargetPlan {
  return {
    name,
    transport: 'local',
    host: 'localhost',
    port: 22,
    user: '',
    tags: [],
    workdir: mkdtempSync(join(os.tmpdir(), `local-pool-${name}-`)),
    strictHostKeyChecking: true,
    variables: {},
  };
}

const run = (t: LocalTransport, tg: TargetPlan, script: string, extra: Partial<ScriptRequest> = {}) =>
  t.run({ target: tg, script, env: {}, timeoutMs: 20_000, ...extra });

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statOf = (pid: string) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [ppid, pgrp] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(1, 3)
    .map(Number);
  return { ppid: ppid ?? 0, pgrp: pgrp ?? 0 };
};

/**
 * SIGKILLs this process's pooled shells (their loops, children of this process) and the subshells in their process
 * groups (a request's follower); a run's supervisor has a group of its own and is spared: it stands for a script
 * that outlives its shell.
 */
function killPoolShells(): number {
  const loops = new Set<number>();
  const rest: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').at(-2) !== 'rollout-pool') continue;
      const { ppid, pgrp } = statOf(pid);
      if (ppid === process.pid) loops.add(Number(pid));
      else if (pgrp !== Number(pid)) rest.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  let n = 0;
  for (const pid of [...loops, ...rest.filter((p) => loops.has(statOf(String(p)).pgrp))]) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

describe('LocalTransport pooled shells', { timeout: 60_000 }, () => {
  it('reuses one shell for successive runs (none without the pool)', async () => {
    const tg = target('reuse');
    const t = transport();
    for (let i = 0; i < 4; i++) expect((await run(t, tg, `echo run ${i}`)).stdoutTail).toBe(`run ${i}\n`);
    expect({ started: t.pool.shellsStarted, reuses: t.pool.reuses }).toEqual({ started: 1, reuses: 3 });
    // Control: without the pool every run spawns its own process (and still runs the same).
    const fresh = transport({ poolShells: 0 });
    for (let i = 0; i < 4; i++) expect((await run(fresh, tg, `echo run ${i}`)).stdoutTail).toBe(`run ${i}\n`);
    expect({ started: fresh.pool.shellsStarted, reuses: fresh.pool.reuses }).toEqual({ started: 0, reuses: 0 });
  });

  it('runs beyond the cap spawn their own process; idle shells close after poolIdleMs', async () => {
    const targets = [target('cap-a'), target('cap-b'), target('cap-c'), target('cap-d'), target('cap-e')];
    const t = transport({ poolShells: 2, poolIdleMs: 1500 });
    const rs = await Promise.all(targets.map((tg, i) => run(t, tg, `sleep 0.3; echo ${i}`)));
    expect(rs.map((r) => r.stdoutTail)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
    expect(t.pool.shellsStarted).toBe(2);
    await until('both shells idle', () => t.pool.counts.idle === 2, 1000);
    expect(t.pool.counts).toEqual({ open: 2, idle: 2 });
    await until('idle shells closed', () => t.pool.counts.open === 0);
    expect((await run(t, targets[0]!, 'echo again')).stdoutTail).toBe('again\n');
    expect(t.pool.shellsStarted).toBe(3);
  });

  it('a shell killed mid-run is not reused; one killed while idle still runs the next script once', async () => {
    const tg = target('killed');
    const t = transport();
    await run(t, tg, 'true');
    // Mid-run: the loop and the follower's subshell die, the supervisor (and so the script) does not. The call says
    // the shell was lost and an attach reads the outcome; either way that shell never serves another request.
    let attached = false;
    const r = await run(t, tg, 'sleep 0.4; echo done', {
      runId: 'local-pool-killed',
      onClaim: () => expect(killPoolShells()).toBeGreaterThan(0),
    }).catch(async (e: unknown) => {
      expect(e).toBeInstanceOf(TransportError);
      attached = true;
      return run(t, tg, 'true', { runId: 'local-pool-killed', attachOnly: true });
    });
    expect(r).toMatchObject({ exitCode: 0, stdoutTail: 'done\n' });
    expect((await run(t, tg, 'echo next')).stdoutTail).toBe('next\n');
    expect(t.pool.shellsStarted).toBe(2);
    expect(t.pool.reuses).toBe(attached ? 2 : 1);

    // Idle: killed right before the next request is written (its exit may not have been seen yet).
    expect(killPoolShells()).toBeGreaterThan(0);
    const once = await run(t, tg, 'echo x >> once.txt; echo ran');
    expect(once).toMatchObject({ exitCode: 0, stdoutTail: 'ran\n' });
    expect(readFileSync(join(tg.workdir, 'once.txt'), 'utf8')).toBe('x\n');
  });
});
