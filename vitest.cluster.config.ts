// `npm run test:cluster`: the tests against a production-shaped Temporal (the real server built from Go, on
// PostgreSQL, mTLS on the frontend), set up once by test/cluster/globalSetup.ts. Separate from `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native core (worker) does not like worker threads.
    pool: 'forks',
    globalSetup: ['test/cluster/globalSetup.ts', 'test/globalSetupBundle.ts'],
    // One file at a time: the server restart test must not pull the server from under another file (and 2 cores).
    fileParallelism: false,
    testTimeout: 180_000,
    // A cold build of the Temporal server takes minutes.
    hookTimeout: 1_200_000,
    include: ['test/cluster/**/*.test.ts'],
  },
});
