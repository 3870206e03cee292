import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind; finds Chromium first.
    globalSetup: ['@aviary/test-support/janitor', '@aviary/test-support/browser-setup'],
    reporters: ['default'],
    // Setup packs, installs, starts a server and Chromium: ceilings for a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
