// @ts-check
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'net',
  'tls',
  'http',
  'https',
  'crypto',
  'child_process',
  'worker_threads',
  'stream',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      '.data/',
      '.jest-cache/',
      'dashboard/dist/',
      'test-artifacts/',
      'coverage/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Forgetting to await an activity, a query or a workflow API call is a silent bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Workflow code is replayed in a sandbox: no I/O, no Node built-ins, no clients.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'imapflow', 'express', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map(
            (name) => ({
              name,
              message: 'workflow code must not do I/O; call an activity instead',
              allowTypeImports: true,
            }),
          ),
          patterns: [
            {
              group: NODE_BUILTINS.flatMap((m) => [m, `node:${m}`, `node:${m}/*`]),
              message: 'no Node built-ins in workflow code',
            },
            {
              group: ['../activities/*', '../imap/*', '../mail/*', '../api/*', '../db/*'],
              message: 'import activities as types only',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
