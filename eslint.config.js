// ESLint with typescript-eslint's type-checked rules over the library, CLI, benches,
// fixtures and tests (tests are type-checked as strictly as the code they test), and the
// browser console (console/src, its own tsconfig: DOM and Preact's JSX, found by the project service).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'core-wasm/**', 'coverage/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts', 'console/vite.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `const { id: _id, ...rest } = r` drops a key; `_`-prefixed names are unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
    },
  },
);
