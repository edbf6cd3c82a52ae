// typescript-eslint's recommended rules for the TypeScript sources, plus the
// layering rule of the architecture: cli → domain → util, never upward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const DOMAIN = [
  'confine',
  'analysis',
  'compile',
  'config',
  'deps',
  'dev-cluster',
  'doctor',
  'functions',
  'install',
  'targets',
  'toolchain',
  'verify',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'target/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    files: [`src/{${DOMAIN.join(',')}}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/*', '**/cli/**'],
              message: 'domain modules never import from cli/ (imports run cli → domain → util)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/util/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: DOMAIN.flatMap((d) => [`../${d}/*`, `../${d}/**`]).concat(['../cli/*', '../cli/**']),
              message: 'util/ is the bottom layer: it imports nothing of the project above it',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
