import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native core (worker) does not like worker threads.
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts', 'test/globalSetupBundle.ts'],
    testTimeout: 120000,
    hookTimeout: 120000,
    include: ['test/**/*.test.ts'],
  },
});
