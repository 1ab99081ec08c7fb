/**
 * vitest globalSetup: ONE Temporal dev server for the whole test run (headless, free ports, a temp SQLite db).
 *
 * Tests get its address through `inject('temporalAddress')` (or `process.env.TEMPORAL_TEST_ADDRESS`).
 * If TEMPORAL_TEST_ADDRESS is already set when vitest starts, that server is used and none is started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findOrInstallTemporalCli } from '../src/temporal/binaries.js';
import { getFreePort, startDevServer, type DevServerHandle } from '../src/temporal/devServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the shared Temporal dev server (namespace `default`). */
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: DevServerHandle | undefined;
  let stateDir: string | undefined;

  const teardown = async () => {
    // ---- workflow bundle cleanup (if any) goes here ----
    await server?.stop();
    server = undefined;
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    stateDir = undefined;
  };

  try {
    let address = process.env.TEMPORAL_TEST_ADDRESS;
    if (!address) {
      stateDir = await mkdtemp(path.join(os.tmpdir(), 'rollout-test-temporal-'));
      // The pip fallback installs into the project's (gitignored) state dir, so it happens at most once.
      const cliPath = await findOrInstallTemporalCli(path.resolve('.rollout'));
      const ip = '127.0.0.1';
      const grpcPort = await getFreePort(ip);
      let httpPort = await getFreePort(ip);
      while (httpPort === grpcPort) httpPort = await getFreePort(ip);
      let metricsPort = await getFreePort(ip);
      while (metricsPort === grpcPort || metricsPort === httpPort) metricsPort = await getFreePort(ip);
      const started = Date.now();
      server = await startDevServer({
        cliPath,
        stateDir,
        ip,
        grpcPort,
        httpPort,
        metricsPort,
        headless: true,
        detached: false,
      });
      address = server.address;
      if (process.env.ROLLOUT_TEST_VERBOSE) {
        console.log(`[globalSetup] Temporal dev server ${address} (pid ${server.pid}) up in ${Date.now() - started} ms`);
      }
    }
    process.env.TEMPORAL_TEST_ADDRESS = address;
    project.provide('temporalAddress', address);

    // ====================================================================================================
    // WORKFLOW BUNDLE: bundle workflows/ once here (bundleWorkflowCode from @temporalio/worker) and
    // provide the bundle (e.g. project.provide('workflowBundlePath', ...) with a ProvidedContext entry above),
    // and clean it up in teardown. Intentionally left empty for now.
    // ====================================================================================================
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }

  return teardown;
}
