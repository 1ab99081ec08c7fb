/**
 * vitest globalSetup: ONE Temporal dev server for the whole test run (headless, free ports, a temp SQLite db).
 *
 * Tests get its address through `inject('temporalAddress')` (or `process.env.TEMPORAL_TEST_ADDRESS`).
 * If TEMPORAL_TEST_ADDRESS is already set when vitest starts, that server is used and none is started.
 */
import type { TestProject } from 'vitest/node';
import { startScratchDevServer } from '../dev/scratchDevServer';
import type { DevServerHandle } from '../src/temporal/devServer';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the shared Temporal dev server (namespace `default`). */
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: DevServerHandle | undefined;

  const teardown = async () => {
    await server?.stop();
    server = undefined;
  };

  try {
    let address = process.env.TEMPORAL_TEST_ADDRESS;
    if (!address) {
      const started = Date.now();
      const scratch = await startScratchDevServer('rollout-test-temporal-');
      server = scratch;
      address = scratch.address;
      if (process.env.ROLLOUT_TEST_VERBOSE) {
        console.log(
          `[globalSetup] Temporal dev server ${address} (pid ${scratch.pid}) up in ${Date.now() - started} ms`,
        );
      }
    }
    process.env.TEMPORAL_TEST_ADDRESS = address;
    project.provide('temporalAddress', address);

    // The workflow bundle is built once by test/globalSetupBundle.ts.
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }

  return teardown;
}
