// Whether a process is alive (a zombie is not), what its command line is, and stopping one: SIGTERM, a grace
// period, SIGKILL.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a stopped server may take to exit after SIGTERM before it gets SIGKILL. */
export const STOP_GRACE_MS = 10_000;

/** Whether `pid` is a live (non-zombie) process. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Linux: a zombie (exited, not yet reaped) still answers kill(0). Without /proc, trust kill(0).
  const statLine = readTextSync(`/proc/${pid}/stat`);
  if (statLine !== undefined) {
    const close = statLine.lastIndexOf(')');
    const state = statLine.slice(close + 2, close + 3);
    if (state === 'Z' || state === 'X') return false;
  }
  return true;
}

function readTextSync(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The process's command line (Linux /proc), or undefined when unknown. */
export function processCmdline(pid: number): string[] | undefined {
  const raw = readTextSync(`/proc/${pid}/cmdline`);
  if (raw === undefined) return undefined;
  return raw.split('\0').filter(Boolean);
}

/** SIGTERM, wait up to `graceMs`, SIGKILL, wait. Resolves once the pid is gone; throws if it never goes. */
export async function killAndWait(
  pid: number,
  graceMs = STOP_GRACE_MS,
  exited: () => boolean = () => false,
): Promise<void> {
  const gone = () => exited() || !isPidAlive(pid);
  if (gone()) return;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  for (const deadline = Date.now() + graceMs; Date.now() < deadline;) {
    if (gone()) return;
    await sleep(50);
  }
  send('SIGKILL');
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    if (gone()) return;
    await sleep(50);
  }
  throw new Error(`Temporal dev server (pid ${pid}) did not exit after SIGKILL`);
}
