import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/e2e/**/*.e2e-spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind.
    globalSetup: ['@aviary/test-support/janitor'],
    reporters: ['default'],
    testTimeout: 15_000,
  },
});
