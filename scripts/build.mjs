// Builds dist/ (`npm run build`). One compiler, TypeScript, for everything:
//
//   dist/esm/**    ES modules, one file per source file (tsconfig.build.json)
//   dist/cjs/**    CommonJS, the same files compiled the same way (tsconfig.build.cjs.json)
//   dist/types/**  the one set of declarations, `@internal` left out (tsconfig.build.types.json)
//   dist/index.{js,cjs,d.ts,d.cts}, dist/testing/index.*, dist/redis/index.*, dist/http/index.*,
//   dist/metrics/index.*  entry points
//   dist/esm/cli/main.js  the `brama` CLI (package.json `bin`)
//
// No bundling: every entry of one format loads the same module files, so `brama`,
// `brama/testing` and `brama/redis` share one `Brama` class (and one of every other class) per
// format, and classes keep their names. Both formats' entry declarations re-export the same
// dist/types, so a `Brama` typed through `import` and one typed through `require` are the same
// type. dist/types is marked CommonJS (its own package.json) because an ES module may import a
// CommonJS declaration file but not the other way round.
//
// The build happens in a scratch folder that replaces dist/ at the end, so a test reading dist/
// while someone rebuilds sees the old or the new build, not half of one.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');

/** Public entry points: the source file and where its entry files go in dist/. */
const ENTRIES = [
  { source: 'index', entry: 'index' },
  { source: 'testing/index', entry: 'testing/index' },
  { source: 'redis', entry: 'redis/index' },
  { source: 'metrics/index', entry: 'metrics/index' },
  { source: 'http/index', entry: 'http/index' },
];

const out = join(root, `.build-${process.pid}`);

// Never leave a scratch folder behind (after the swap there is nothing left to remove).
process.on('exit', () => rmSync(out, { recursive: true, force: true }));

function fail(message) {
  process.stderr.write(`build failed: ${message}\n`);
  process.exit(1);
}

function readConfig(file) {
  const path = join(root, file);
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => fail(formatDiagnostics([d])),
    },
  );
  if (parsed === undefined) fail(`cannot read ${file}`);
  if (parsed.errors.length > 0) fail(formatDiagnostics(parsed.errors));
  return parsed;
}

function formatDiagnostics(diagnostics) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  });
}

function write(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const posix = (path) => path.split(sep).join('/');
/** A relative module specifier from the folder `fromDir` to `file`. */
const specifier = (fromDir, file) => {
  const rel = posix(relative(fromDir, file));
  return rel.startsWith('.') ? rel : `./${rel}`;
};

rmSync(out, { recursive: true, force: true });

// 1. Declarations, from one program over what the entries import. Type errors in it fail the
//    build (`npm run typecheck` checks tests and examples too).
const typesConfig = readConfig('tsconfig.build.types.json');
const program = ts.createProgram({
  rootNames: typesConfig.fileNames,
  options: { ...typesConfig.options, outDir: join(out, 'types') },
});
const emitted = program.emit(undefined, undefined, undefined, true);
const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (problems.length > 0 || emitted.emitSkipped) fail(formatDiagnostics(problems));
const sources = program
  .getSourceFiles()
  .map((f) => f.fileName)
  .filter((f) => !relative(srcDir, f).startsWith('..') && !f.endsWith('.d.ts'));

// 2. JavaScript: every source file the entries reach, once per format. The sources are written
//    for isolated modules (`isolatedModules`, `verbatimModuleSyntax`), so compiling file by file
//    gives what a whole-program compile would.
for (const [format, configFile] of [
  ['esm', 'tsconfig.build.json'],
  ['cjs', 'tsconfig.build.cjs.json'],
]) {
  const { options } = readConfig(configFile);
  // Compiled file by file, NodeNext cannot see that src/ is ESM (package.json `type`): say so.
  const module = format === 'esm' ? ts.ModuleKind.ES2022 : options.module;
  const moduleResolution =
    format === 'esm' ? ts.ModuleResolutionKind.Bundler : options.moduleResolution;
  for (const source of sources) {
    const rel = relative(srcDir, source);
    const target = join(out, format, rel.replace(/\.ts$/, '.js'));
    const result = ts.transpileModule(readFileSync(source, 'utf8'), {
      fileName: source,
      compilerOptions: { ...options, module, moduleResolution, outDir: undefined },
      reportDiagnostics: true,
    });
    if (result.diagnostics?.length) fail(formatDiagnostics(result.diagnostics));
    const map = JSON.parse(result.sourceMapText);
    map.file = posix(relative(dirname(target), target));
    map.sources = [posix(relative(dirname(target), source))];
    map.sourceRoot = '';
    const code = result.outputText.replace(
      /\/\/# sourceMappingURL=.*$/m,
      `//# sourceMappingURL=${map.file}.map`,
    );
    write(target, code);
    // The CLI (package.json `bin`) keeps its `#!` line: make it runnable as it is.
    if (code.startsWith('#!')) chmodSync(target, 0o755);
    write(`${target}.map`, JSON.stringify(map));
  }
}
write(join(out, 'cjs/package.json'), '{ "type": "commonjs" }\n');
write(join(out, 'types/package.json'), '{ "type": "commonjs" }\n');

// 3. Entry points: thin files that load the format's modules and re-export the shared types.
for (const { source, entry } of ENTRIES) {
  const dir = dirname(join(out, entry));
  const esm = specifier(dir, join(out, 'esm', `${source}.js`));
  const cjs = specifier(dir, join(out, 'cjs', `${source}.js`));
  const types = specifier(dir, join(out, 'types', `${source}.js`));
  write(join(out, `${entry}.js`), `export * from '${esm}';\n`);
  write(join(out, `${entry}.cjs`), `'use strict';\nmodule.exports = require('${cjs}');\n`);
  write(join(out, `${entry}.d.ts`), `export * from '${types}';\n`);
  write(join(out, `${entry}.d.cts`), `export * from '${types}';\n`);
}

// 4. Swap the new build in. Another build finishing at the same moment may put its dist/ back
//    between the two renames: then move that one aside too and try again.
const dist = join(root, 'dist');
for (let attempt = 0; ; attempt++) {
  const old = join(root, `.build-${process.pid}-old${attempt}`);
  try {
    renameSync(dist, old);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  try {
    renameSync(out, dist);
    break;
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes(error.code) || attempt >= 5) throw error;
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
}
process.stdout.write(`built dist/ (${sources.length} modules, ESM + CommonJS + declarations)\n`);
