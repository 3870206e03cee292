import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind.
    globalSetup: ['@aviary/test-support/janitor'],
    reporters: ['default'],
    testTimeout: 15_000,
    hookTimeout: 30_000,
    // The e2e test runs real processes and real timing; keep it away from other files' load.
    fileParallelism: false,
  },
});
