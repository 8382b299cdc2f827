// Type-aware lint. Besides the recommended sets, the import rules below keep contracts apart from their
// implementations (../shared/STYLE.md rule 2): core imports nothing of ours, contracts import only core and
// contracts, and plugin implementations never import one another's folders.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'artifacts/**', 'src/ui/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'max-params': ['error', 4],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'max-params': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  { files: ['src/core/**/*.ts'], ignores: ['**/*.test.ts'], rules: restrict(['../*']) },
  {
    files: ['src/contracts/**/*.ts'],
    rules: restrict([
      { group: ['../*', '!../core', '!../contracts'], message: 'contracts import only core and contracts' },
    ]),
  },
  ...['translators', 'scheduling', 'policies', 'auth-schemes', 'state', 'sim'].map((own) => ({
    files: [`src/${own}/**/*.ts`],
    // Tests and their support files (test-*.ts) may build what the server builds.
    ignores: ['**/*.test.ts', '**/test-*.ts'],
    rules: restrict(
      [
        'server',
        'config',
        'routing',
        'upstream',
        'telemetry',
        'cli',
        'api',
        'translators',
        'scheduling',
        'policies',
        'state',
        'sim',
        'mcp',
      ]
        .filter((other) => other !== own && !(own === 'policies' && other === 'state'))
        .map((other) => ({
          group: [`**/${other}/*`],
          message: 'plugin implementations import only contracts, core and their own folder',
        })),
    ),
  })),
);
