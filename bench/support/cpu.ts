// Where a benchmark's CPU goes, per run: this process (the worker, and the client), the Temporal dev server, and
// the targets (every sshd daemon and whatever its sessions fork: the wrapper, the script). The targets are
// counted through a cgroup-v1 cpuacct group the daemons are moved into (their sessions inherit it); where that is
// not writable (no root, cgroup v2 only) the targets' share is not printed. Process CPU is read from /proc
// (utime + stime + the reaped children's), so it holds only what ran in that process tree.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

const CPUACCT = '/sys/fs/cgroup/cpuacct';
const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface CpuSample {
  workerMs: number;
  serverMs: number;
  targetsMs: number | undefined;
}

export interface CpuMeter {
  sample(): CpuSample;
  close(): void;
}

/** CPU ms of a process and its reaped children (0 once it is gone). */
function procMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14 … cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

export function cpuMeter(serverPid: number, targetPids: number[]): CpuMeter {
  let group: string | undefined = `${CPUACCT}/rollout-bench-${process.pid}`;
  try {
    mkdirSync(group);
    for (const pid of targetPids) writeFileSync(`${group}/tasks`, String(pid));
  } catch {
    group = undefined;
  }
  const targetsMs = () => (group ? Number(readFileSync(`${group}/cpuacct.usage`, 'utf8')) / 1e6 : undefined);
  const workerMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  return {
    sample: () => ({ workerMs: workerMs(), serverMs: procMs(serverPid), targetsMs: targetsMs() }),
    close() {
      if (!group) return;
      // Back to the root group, so the empty group can go.
      try {
        for (const pid of readFileSync(`${group}/tasks`, 'utf8').split('\n').filter(Boolean))
          writeFileSync(`${CPUACCT}/tasks`, pid);
        rmdirSync(group);
      } catch {
        // the daemons may be gone already; a left-over empty group is harmless
      }
    },
  };
}

/** What ran between two samples. */
export function cpuSpent(a: CpuSample, b: CpuSample): CpuSample {
  return {
    workerMs: b.workerMs - a.workerMs,
    serverMs: b.serverMs - a.serverMs,
    targetsMs: a.targetsMs === undefined || b.targetsMs === undefined ? undefined : b.targetsMs - a.targetsMs,
  };
}
