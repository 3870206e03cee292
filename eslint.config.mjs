import nx from '@nx/eslint-plugin';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist', '**/out-tsc', '**/node_modules', '**/.nx', '**/vitest.config.*.timestamp*', 'apps/canary-demo/report'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...nx.configs['flat/base'],
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Dependency direction: apps -> SDKs -> core; browser code never reaches Node or server packages.
    files: ['**/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:sdk', 'scope:core'] },
            { sourceTag: 'scope:sdk', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [], allowedExternalImports: [] },
            // Test projects (tests/*) use the packages from outside, as built files and tarballs.
            { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:app', 'scope:sdk', 'scope:core'] },
            {
              sourceTag: 'platform:browser',
              onlyDependOnLibsWithTags: ['platform:any', 'platform:browser'],
              allowedExternalImports: ['@openfeature/web-sdk', '@openfeature/core'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/src/**/*.ts', 'packages/browser/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'path', 'http', 'https', 'crypto', 'events', 'stream'] }],
    },
  },
];
