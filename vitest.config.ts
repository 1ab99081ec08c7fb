import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native core (worker) does not like worker threads.
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts', 'test/globalSetupBundle.ts'],
    testTimeout: 120000,
    hookTimeout: 120000,
    include: ['test/**/*.test.ts'],
    // Run by `npm run test:cluster` (vitest.cluster.config.ts) against the self-hosted Temporal server.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
  },
});
