// The CLI's embedded dev server: reuse the one recorded in the state dir when it is alive, answering and on the
// wanted ports, otherwise start a detached one and record it; stop the recorded one.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { findOrInstallTemporalCli } from '../binaries';
import { withStateLock } from './lock';
import { devServerPorts, resolveDevPortBase } from './ports';
import { killAndWait } from './process';
import { waitUntilAnswering } from './readiness';
import {
  isRecordedServerProcess,
  readDevServerRecord,
  removeDevServerRecord,
  writeDevServerRecord,
  type DevServerRecord,
} from './record';
import { DEV_SERVER_LOG_FILE, startDevServer, type DevServerHandle } from './start';

export interface EnsureDevServerOptions {
  stateDir: string;
  /** Default `$ROLLOUT_DEV_PORT_BASE`, else 17233. */
  basePort?: number;
  /** Serve the Web UI on base+1000. Default true. */
  ui?: boolean;
  /** Default: findTemporalCli(stateDir), else installTemporalCli(stateDir). */
  cliPath?: string;
  namespace?: string;
  ip?: string;
  readyTimeoutMs?: number;
}

export interface EnsuredDevServer extends DevServerHandle {
  /** True when an already running server was reused. */
  reused: boolean;
}

async function stopRecorded(stateDir: string): Promise<boolean> {
  const rec = await readDevServerRecord(stateDir);
  if (!rec) return false;
  let stopped = false;
  if (isRecordedServerProcess(rec)) {
    await killAndWait(rec.pid);
    stopped = true;
  }
  await removeDevServerRecord(stateDir);
  return stopped;
}

/**
 * Stops the dev server recorded in `<stateDir>/devserver.json` (if it is still running) and removes the record.
 * Resolves true if a process was stopped.
 */
export async function stopDevServer(stateDir: string): Promise<boolean> {
  await mkdir(path.resolve(stateDir), { recursive: true });
  return withStateLock(stateDir, () => stopRecorded(stateDir));
}

/**
 * For the CLI: reuse the dev server recorded in `<stateDir>/devserver.json` if it is alive, answers and has the
 * wanted ports (a headless one is replaced when a UI is wanted); otherwise start a detached one (log in
 * `<stateDir>/temporal.log`, db in `<stateDir>/temporal.db`) and record it. Ports: base (default 17233 or
 * `$ROLLOUT_DEV_PORT_BASE`) for gRPC, +10 HTTP, +20 metrics, +1000 UI.
 */
export async function ensureDevServer(opts: EnsureDevServerOptions): Promise<EnsuredDevServer> {
  const stateDir = path.resolve(opts.stateDir);
  const base = resolveDevPortBase(opts.basePort);
  const ui = opts.ui ?? true;
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const wanted = devServerPorts(base, ui);
  await mkdir(stateDir, { recursive: true });

  return withStateLock(stateDir, async () => {
    const rec = await readDevServerRecord(stateDir);
    if (rec) {
      const matches =
        rec.ip === ip &&
        rec.namespace === namespace &&
        rec.ports.grpc === wanted.grpc &&
        rec.ports.http === wanted.http &&
        rec.ports.metrics === wanted.metrics &&
        (!ui || rec.ports.ui === wanted.ui);
      if (isRecordedServerProcess(rec)) {
        // A running server gets 10 s to answer (it may still be starting) before it is replaced.
        const why = matches
          ? await waitUntilAnswering(rec.address, rec.namespace, 10_000, () =>
              isRecordedServerProcess(rec) ? undefined : 'the server exited',
            )
          : 'different ports or UI setting requested';
        if (!why) {
          return {
            address: rec.address,
            ...(rec.uiUrl ? { uiUrl: rec.uiUrl } : {}),
            pid: rec.pid,
            namespace: rec.namespace,
            ports: rec.ports,
            dbFile: rec.dbFile,
            logFile: rec.logFile,
            reused: true,
            stop: async () => {
              await stopDevServer(stateDir);
            },
          };
        }
        process.stderr.write(`rollout: restarting the Temporal dev server (pid ${rec.pid}): ${why}\n`);
      }
      await stopRecorded(stateDir);
    }

    const cliPath = opts.cliPath ?? (await findOrInstallTemporalCli(stateDir));
    const server = await startDevServer({
      cliPath,
      stateDir,
      ip,
      grpcPort: wanted.grpc,
      httpPort: wanted.http,
      metricsPort: wanted.metrics,
      ...(wanted.ui !== undefined ? { uiPort: wanted.ui } : {}),
      headless: !ui,
      namespace,
      detached: true,
      logFile: path.join(stateDir, DEV_SERVER_LOG_FILE),
      ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    });
    const record: DevServerRecord = {
      pid: server.pid,
      address: server.address,
      ip,
      namespace,
      ports: server.ports,
      ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      headless: !ui,
      dbFile: server.dbFile,
      logFile: server.logFile,
      cliPath,
      startedAt: new Date().toISOString(),
    };
    try {
      await writeDevServerRecord(stateDir, record);
    } catch (e) {
      await server.stop().catch(() => undefined);
      throw e;
    }
    return {
      ...server,
      reused: false,
      stop: async () => {
        await server.stop();
        await removeDevServerRecord(stateDir);
      },
    };
  });
}
