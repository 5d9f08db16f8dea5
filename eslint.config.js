import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const layer = (from, banned, why) => ({
  files: [from],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((group) =>
          group instanceof RegExp
            ? { regex: group.source, message: why }
            : { group: [group], message: why },
        ),
      },
    ],
  },
})

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'docs/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // bin/ is CommonJS (bin/package.json) for the fastest start of `airlock connect`.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Layer rules: src/shared runs anywhere, src/gateway is plain Node, only main/preload see Electron.
  layer(
    'src/shared/**',
    [
      'node:*',
      'fs',
      'path',
      'os',
      'net',
      'child_process',
      'crypto',
      'electron',
      'electron/*',
      'ws',
      '**/node/**',
      '**/clients/**',
      '**/gateway/**',
      '**/main/**',
      '**/cli/**',
    ],
    'src/shared imports neither Node nor Electron nor other layers.',
  ),
  layer(
    'src/node/**',
    ['electron', 'electron/*', '**/clients/**', '**/gateway/**', '**/main/**', '**/cli/**'],
    'src/node holds plain-Node building blocks: shared and node: only.',
  ),
  layer(
    'src/clients/**',
    ['electron', 'electron/*', '**/main/**', '**/cli/**', '**/renderer/**'],
    'The client-config library runs in plain Node: no electron.',
  ),
  layer(
    'src/gateway/**',
    ['electron', 'electron/*', '**/main/**', '**/renderer/**', '**/preload/**'],
    'src/gateway runs in plain Node: no electron.',
  ),
  layer(
    'src/cli/**',
    ['electron', 'electron/*', '**/main/**', '**/renderer/**'],
    'The CLI runs in plain Node: no electron.',
  ),
  layer(
    'src/shim/**',
    [new RegExp('^(?!node:|\\.\\./node/(handshake|paths|desktop-app)$)')],
    'The shim is dependency-free: only node: builtins (and handshake, paths, desktop-app of src/node).',
  ),
  layer(
    'src/renderer/**',
    ['node:*', 'electron', 'electron/*', '**/gateway/**', '**/main/**'],
    'The renderer only speaks the control API.',
  ),
)
