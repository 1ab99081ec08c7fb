/**
 * Embedded Temporal dev server (`temporal server start-dev`), backed by a SQLite file in the state dir.
 *
 * - `startDevServer` starts one and resolves once its gRPC frontend really answers (describeNamespace).
 * - `ensureDevServer` is for the CLI: reuses the server recorded in `<stateDir>/devserver.json` when it is alive
 *   and answering, otherwise starts a detached one that outlives the command and records it.
 * - `stopDevServer` stops the recorded one.
 *
 * Every port is pinned; nothing listens on Temporal's default 7233/8233.
 *
 * Parts: ports.ts (allocation, offsets), process.ts (liveness, kill), lock.ts (the state dir's lock file),
 * record.ts (devserver.json), readiness.ts (probes), start.ts and ensure.ts (orchestration).
 */
export {
  DEFAULT_DEV_PORT_BASE,
  devServerPorts,
  findFreeBasePort,
  getFreePort,
  isPortFree,
  resolveDevPortBase,
  type DevServerPorts,
} from './ports';
export { isPidAlive } from './process';
export { readDevServerRecord, type DevServerRecord } from './record';
export { devServerAnswers } from './readiness';
export { startDevServer, type DevServerHandle, type StartDevServerOptions } from './start';
export { ensureDevServer, stopDevServer, type EnsureDevServerOptions, type EnsuredDevServer } from './ensure';
