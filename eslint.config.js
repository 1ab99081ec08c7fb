// Lint: type-aware rules for floating promises, and workflow code kept free of Node builtins and I/O.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
// A relative import that climbs to the top-level dev/ folder (from src/, activities/ or workflows/).
const devHarnessImports = {
  regex: '^(\\.\\./)+dev(/|$)',
  message: 'dev/ is the dev harness: product code must not import it',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.rollout/**',
      'dist/**',
      'test-artifacts/**',
      'bin/**',
      'eslint.config.js',
      '**/*.d.mts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain JavaScript (the demo farm's helpers): no type information, Node globals.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  {
    // The dev harness (dev/: Slack stand-in, console, demo farm) is not product code. Only the `dev` CLI command
    // loads it, with a dynamic import() (which this static-import rule does not see).
    files: ['src/**/*.ts', 'activities/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [devHarnessImports] }],
    },
  },
  {
    // Layers: imports point down, src/ → activities/ → workflows/ → domain/. Workflows use activities by type only.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflows/ is deterministic: do I/O in activities/' })),
          patterns: [
            { group: ['**/src/*', '**/src/**'], message: 'workflows/ must not import src/' },
            {
              group: ['**/activities', '**/activities/**'],
              message: 'workflows/ import activities by type only',
              allowTypeImports: true,
            },
            devHarnessImports,
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'use the workflow clock helper (new Date() is deterministic here)',
        },
        { object: 'Math', property: 'random', message: 'no randomness in workflows' },
      ],
    },
  },
  {
    // The domain: pure rules shared by the workflows, the activities and the config loader. Deterministic, no I/O.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'domain/ is pure: no Node builtins' })),
          patterns: [
            {
              group: ['**/src/*', '**/src/**', '**/activities', '**/activities/**', '**/workflows', '**/workflows/**'],
              message: 'domain/ imports nothing above it',
            },
            devHarnessImports,
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'domain/ runs inside workflows: no clock' },
        { object: 'Math', property: 'random', message: 'domain/ runs inside workflows: no randomness' },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    ignores: [],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
    },
  },
);
