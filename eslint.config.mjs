// Lint rules: the recommended and type-aware sets of typescript-eslint, so that floating promises
// and unsafe `any` are caught; no rule is disabled wholesale.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PROBE_SOURCES = {
  group: ['**/runtime-probe/**'],
  message: "Import the probe by package name ('lockscope/analysis', 'lockscope/report').",
};
const EXTENSION_SOURCES = {
  group: ['**/extension/src/**'],
  message: "Only the extension's own code imports its sources.",
};
const WEBVIEW_SOURCES = {
  group: ['**/webview/src/**'],
  message: "Only the webview's own code and its tests import its sources.",
};

/** The extension's files that may import `vscode`. */
const VSCODE_GLUE = [
  'extension/src/extension.ts',
  'extension/src/features/**/*.ts',
  'extension/src/settings.ts',
  'extension/src/codeactions/provider.ts',
];

/** The imports that `files` may not make: other packages' sources and, unless allowed, vscode. */
function boundary(files, patterns, noVscode = false) {
  const paths = noVscode
    ? [{ name: 'vscode', message: 'Only the extension uses the vscode API.' }]
    : [];
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'runtime-probe/dist/**',
      '.lockscope/**',
      'test/artifacts/**',
      'test/.build/**',
      // Top-level await in a CommonJS package: the point of this fixture, and outside tsconfig.
      'test/fixtures/newcomer/cjs-package/top-level-await.ts',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // node:test's describe/test/it return promises that the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: [
                'describe',
                'it',
                'test',
                'suite',
                'before',
                'after',
                'beforeEach',
                'afterEach',
              ],
            },
          ],
        },
      ],
    },
  },
  // Package boundaries: the extension and the webview use the probe through its package name
  // (`lockscope/analysis`, `lockscope/report`, ...), never by reaching into its sources; only the
  // extension's code talks to the `vscode` API, and the probe depends on neither.
  boundary(['extension/**/*.ts'], [PROBE_SOURCES]),
  // Within the extension, only the glue talks to VS Code; the rest is pure and tested on Node.
  {
    ...boundary(['extension/**/*.ts'], [PROBE_SOURCES], true),
    ignores: VSCODE_GLUE,
  },
  boundary(['webview/**/*.ts'], [PROBE_SOURCES, EXTENSION_SOURCES], true),
  boundary(['runtime-probe/**/*.ts'], [EXTENSION_SOURCES, WEBVIEW_SOURCES], true),
  {
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    // The adapters' fixtures: unmodified programs that use timers and Web Locks as Node has them.
    files: ['test/fixtures/adapters/**', 'test/fixtures/redis/**', 'test/fixtures/pg/**'],
    languageOptions: {
      globals: { setTimeout: 'readonly', navigator: 'readonly' },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __dirname: 'readonly', module: 'writable' },
    },
  },
);
