import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    reporters: ['default'],
    globalSetup: ['./dist/janitor.js'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
