// ESLint: the shape rules of docs/design.md. Formatting is prettier's (npm run format); import
// boundaries between folders are dependency-cruiser's (.dependency-cruiser.cjs). An exception to a
// limit is an eslint-disable comment in the file that says why.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const SPAWN = ['child_process', 'node:child_process'];

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'runs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      // Size: a file over 400 lines or a function over 80 (code, after formatting) wants splitting.
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // In src/, only lib/exec starts programs (tests, benchmarks and scripts may spawn).
    files: ['src/**/*.ts'],
    ignores: ['src/lib/exec.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: SPAWN.map((name) => ({
            name,
            message:
              'start programs through src/lib/exec (run, startDaemon, …): one module owns argument arrays, timeouts and aborts',
          })),
        },
      ],
    },
  },
  {
    // Tests read JSON replies field by field: `any` keeps them short, and a wrong field fails the test anyway.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['scripts/**/*.js', '*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
