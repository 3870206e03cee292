import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind.
    globalSetup: ['@aviary/test-support/janitor', '@aviary/test-support/browser-setup'],
    reporters: ['default'],
    // The Chromium suite launches one browser per file; 30 s is a ceiling, not an expectation.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
