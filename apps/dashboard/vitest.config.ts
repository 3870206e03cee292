import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind; finds a Chromium.
    globalSetup: ['@aviary/test-support/janitor', '@aviary/test-support/browser-setup'],
    reporters: ['default'],
    // One real server and one Chromium per file; ceilings, not expectations.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
