/**
 * A vitest setup for code that uses `@circuitBreaker` with standard (TC39) decorators, the
 * default of TypeScript 5. Vitest compiles TypeScript with a transform that does not handle
 * standard decorators yet, so a test that imports a decorated class fails with
 * `SyntaxError: Invalid or unexpected token`. This plugin compiles the files that use decorators
 * with TypeScript itself, as `tsc` would; every other file goes through vitest as usual.
 *
 * Copy this file into your project (it needs `typescript` and `vitest` installed).
 */
import ts from 'typescript';
import { defineConfig, type Plugin } from 'vitest/config';

/** Compiles TypeScript files that contain a decorator (a line starting with `@name`). */
export function standardDecorators(): Plugin {
  return {
    name: 'standard-decorators',
    enforce: 'pre',
    transform(code, id) {
      const file = id.split('?')[0] ?? id;
      if (!/\.[cm]?tsx?$/.test(file) || file.includes('/node_modules/')) return null;
      if (!/^\s*@[\w$]/m.test(code)) return null;
      const out = ts.transpileModule(code, {
        fileName: file,
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
}

export default defineConfig({
  plugins: [standardDecorators()],
  test: { include: ['**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
