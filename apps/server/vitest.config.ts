import { availableParallelism } from 'node:os';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC keeps decorator metadata, which Nest's dependency injection and Swagger need.
export default defineConfig({
  plugins: [
    swc.vite({
      module: { type: 'es6' },
      tsconfigFile: false,
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      },
    }),
  ],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    // Removes the databases, folders and processes a failed test left behind.
    globalSetup: ['@aviary/test-support/janitor'],
    reporters: ['default'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on two cores (Vitest's default leaves one free): the e2e files
    // mostly wait on their servers, Postgres and the network. On this 2-core machine the suite
    // took 388 s with two, 699 s with one (2026-12-03).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
