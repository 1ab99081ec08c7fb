// `<stateDir>/devserver.json`: what the CLI knows about the detached dev server it started (pid, address,
// ports, files), so the next command can reuse it and `rollout server stop` can stop it.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DevServerPorts } from './ports';
import { isPidAlive, processCmdline } from './process';

const DEV_SERVER_RECORD_FILE = 'devserver.json';

/** What `<stateDir>/devserver.json` holds. */
export interface DevServerRecord {
  pid: number;
  address: string;
  ip: string;
  namespace: string;
  ports: DevServerPorts;
  uiUrl?: string;
  headless: boolean;
  dbFile: string;
  logFile: string;
  cliPath: string;
  startedAt: string;
}

function recordPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), DEV_SERVER_RECORD_FILE);
}

/** The record in `<stateDir>/devserver.json`, or undefined if absent or unreadable. */
export async function readDevServerRecord(stateDir: string): Promise<DevServerRecord | undefined> {
  try {
    const rec = JSON.parse(await readFile(recordPath(stateDir), 'utf8')) as DevServerRecord;
    if (typeof rec.pid !== 'number' || typeof rec.address !== 'string' || !rec.ports) return undefined;
    return rec;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically (a temp file renamed over it). */
export async function writeDevServerRecord(stateDir: string, rec: DevServerRecord): Promise<void> {
  const file = recordPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n');
  await rename(tmp, file);
}

export async function removeDevServerRecord(stateDir: string): Promise<void> {
  await rm(recordPath(stateDir), { force: true });
}

/** Whether the recorded pid is alive and (where /proc tells) really is the dev server of this record. */
export function isRecordedServerProcess(rec: DevServerRecord): boolean {
  if (!isPidAlive(rec.pid)) return false;
  const cmd = processCmdline(rec.pid);
  if (cmd === undefined) return true; // cannot tell; trust the pid
  return cmd.includes('start-dev') && cmd.includes(String(rec.ports.grpc)) && cmd.includes(rec.dbFile);
}
