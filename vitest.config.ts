import ts from 'typescript';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * Vite's own TypeScript transform (oxc) does not lower TC39 standard decorators yet, so test
 * files named `*.tc39.test.ts` are compiled by the TypeScript compiler itself: that is also how
 * users of TypeScript 5 get them.
 */
const tscForStandardDecorators: Plugin = {
  name: 'brama:tsc-standard-decorators',
  enforce: 'pre',
  transform(code, id) {
    if (!id.endsWith('.tc39.test.ts')) return null;
    const out = ts.transpileModule(code, {
      fileName: id,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        experimentalDecorators: false,
        sourceMap: true,
      },
    });
    return { code: out.outputText, map: out.sourceMapText ?? null };
  },
};

export default defineConfig({
  plugins: [tscForStandardDecorators],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'coverage/**'],
    environment: 'node',
    setupFiles: ['test/setup/process-warnings.ts'],
    globals: false,
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      reporter: ['text', 'html'],
    },
  },
});
