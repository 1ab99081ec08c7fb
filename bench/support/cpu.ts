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

/** A cgroup-v1 cpuacct group of the benchmark's own: what its tasks (and what they fork) spent on the CPU. */
export interface CpuacctGroup {
  /** The group's directory (its `tasks` file takes a pid). */
  path: string;
  add(pid: number): void;
  /** CPU ms its tasks have used since it was made. */
  usageMs(): number;
  /** Its tasks back to the root group, and the empty group removed. */
  close(): void;
}

/** A new cpuacct group named `name` (made unique per process), or undefined where none can be made. */
export function cpuacctGroup(name: string): CpuacctGroup | undefined {
  const path = `${CPUACCT}/${name}-${process.pid}`;
  try {
    mkdirSync(path);
  } catch {
    return undefined; // no root, or cgroup v2 only
  }
  return {
    path,
    add: (pid) => writeFileSync(`${path}/tasks`, String(pid)),
    usageMs: () => Number(readFileSync(`${path}/cpuacct.usage`, 'utf8')) / 1e6,
    close() {
      try {
        for (const pid of readFileSync(`${path}/tasks`, 'utf8').split('\n').filter(Boolean))
          writeFileSync(`${CPUACCT}/tasks`, pid);
        rmdirSync(path);
      } catch {
        // the tasks may be gone already; a left-over empty group is harmless
      }
    },
  };
}

export function cpuMeter(serverPid: number, targetPids: number[]): CpuMeter {
  let group = cpuacctGroup('rollout-bench');
  try {
    for (const pid of targetPids) group?.add(pid);
  } catch {
    group?.close();
    group = undefined;
  }
  const targetsMs = () => group?.usageMs();
  const workerMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  return {
    sample: () => ({ workerMs: workerMs(), serverMs: procMs(serverPid), targetsMs: targetsMs() }),
    close: () => group?.close(),
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
