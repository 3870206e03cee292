import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/e2e/**/*.e2e-spec.ts'],
    environment: 'node',
    reporters: ['default'],
    testTimeout: 15_000,
  },
});
