/**
 * Runs the built package (dist/) the way consumers load it: by name, from ESM and CommonJS, both
 * in one process, and checks that a process using it exits on its own; checks its declarations;
 * then packs it, installs the tarball into a fresh project as README's "Install" says, and uses
 * it there (runtime, TypeScript across `.mts`/`.cts`, vitest with standard decorators).
 * Needs `npm run build` first (`npm test` does).
 */
import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 20_000;
const ENTRY_FILES = [
  'index',
  'testing/index',
  'redis/index',
  'http/index',
  'metrics/index',
].flatMap((entry) => ['.js', '.cjs', '.d.ts', '.d.cts'].map((ext) => `dist/${entry}${ext}`));

function run(
  command: string,
  args: string[],
  { env, ...options }: SpawnSyncOptions = {},
): SpawnSyncReturns<string> {
  // Without the variables of the enclosing `npm test` and vitest worker, a nested npm or vitest
  // acts as a user's would.
  const inherited = Object.entries(process.env).filter(
    ([key]) => !/^(npm_|vitest)/i.test(key) && key !== 'NODE_OPTIONS',
  );
  return spawnSync(command, args, {
    cwd: root,
    env: { ...Object.fromEntries(inherited), ...env },
    encoding: 'utf8',
    timeout: TIMEOUT_MS * 3,
    killSignal: 'SIGKILL',
    ...options,
  }) as SpawnSyncReturns<string>;
}

function runNode(script: string, cwd = root): SpawnSyncReturns<string> {
  return run(process.execPath, [join(cwd === root ? join(root, 'test/package') : cwd, script)], {
    cwd,
    timeout: TIMEOUT_MS,
  });
}

function explain(result: SpawnSyncReturns<string>): string {
  return [
    `status ${result.status}, signal ${result.signal}, error ${result.error?.message ?? 'none'}`,
    `stdout: ${result.stdout}`,
    `stderr: ${result.stderr}`,
  ].join('\n');
}

function expectOk(result: SpawnSyncReturns<string>): void {
  expect(result.error, explain(result)).toBeUndefined();
  expect(result.signal, explain(result)).toBeNull();
  expect(result.status, explain(result)).toBe(0);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

describe('built package', () => {
  beforeAll(() => {
    const missing = ENTRY_FILES.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) {
      throw new Error(
        `dist/ is missing ${missing.join(', ')}: run \`npm run build\` first ` +
          '(`npm test` builds before running the tests)',
      );
    }
  });

  it.each(['consumer.mjs', 'consumer.cjs'])(
    '%s loads brama and brama/testing by name and runs a circuit through its life',
    (script) => {
      const result = runNode(script);
      expectOk(result);
      expect(result.stdout.trim().split('\n')).toContain('ok');
    },
    TIMEOUT_MS + 10_000,
  );

  it(
    'dual.mjs: ESM and CommonJS in one process keep class names and accept each other',
    () => {
      const result = runNode('dual.mjs');
      expectOk(result);
      expect(result.stdout.trim().split('\n')).toContain('ok');
    },
    TIMEOUT_MS + 10_000,
  );

  it.each(['redis.cjs', 'redis.mjs'])(
    '%s loads brama/redis by name; the root entry never loads ioredis',
    (script) => {
      const result = runNode(script);
      expect(result.signal, explain(result)).toBeNull();
      expect(result.status, explain(result)).toBe(0);
      expect(result.stdout.trim().split('\n')).toContain('ok');
    },
    TIMEOUT_MS + 10_000,
  );

  it.each(['http.mjs', 'http.cjs'])(
    '%s loads brama/http by name, serves its routes and exits by itself',
    (script) => {
      const result = runNode(script);
      expectOk(result);
      expect(result.stdout.trim().split('\n')).toContain('ok');
    },
    TIMEOUT_MS + 10_000,
  );

  it.each(['metrics.mjs', 'metrics.cjs'])(
    '%s loads brama/metrics by name (without @opentelemetry/api) and renders a registry of either build',
    (script) => {
      const result = runNode(script);
      expectOk(result);
      expect(result.stdout.trim().split('\n')).toContain('ok');
    },
    TIMEOUT_MS + 10_000,
  );

  it(
    'a process with default options, 10,000 connections and a listener exits without close()',
    () => {
      const started = Date.now();
      const result = runNode('exit.mjs');
      const elapsed = Date.now() - started;
      expect(result.signal, `killed after ${elapsed} ms: it did not exit by itself`).toBeNull();
      expect(result.error, explain(result)).toBeUndefined();
      expect(result.status, explain(result)).toBe(0);
      expect(result.stdout.trim().split('\n')).toContain('ok');
      expect(elapsed).toBeLessThan(TIMEOUT_MS);
    },
    TIMEOUT_MS + 10_000,
  );

  it('both formats declare their types once: every entry re-exports dist/types', () => {
    for (const entry of ENTRY_FILES.filter((f) => /\.d\.c?ts$/.test(f))) {
      expect(readFileSync(join(root, entry), 'utf8'), entry).toMatch(
        /^export \* from '(\.\.\/)*(\.\/)?types\/[\w/]+\.js';\n$/,
      );
    }
    // An ES module may import a CommonJS declaration file, not the other way round.
    const marker = JSON.parse(readFileSync(join(root, 'dist/types/package.json'), 'utf8')) as {
      type?: string;
    };
    expect(marker.type).toBe('commonjs');
  });

  it('leaves internals out of the declarations', () => {
    const declarations = filesUnder(join(root, 'dist/types')).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(10);
    for (const file of declarations) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain('@internal');
      expect(text, file).not.toContain('[INTERNALS]');
    }
    const redisStore = readFileSync(join(root, 'dist/types/stores/redis/redis-store.d.ts'), 'utf8');
    expect(redisStore).toContain('declare class RedisStore');
    // No public constructor: stores come from createRedisStore.
    expect(redisStore).not.toMatch(/^\s*constructor\(/m);
    expect(redisStore).toMatch(/private constructor\(\);/);
  });

  it('exports every type its exported declarations mention (what a store implementer needs)', () => {
    const entries = ENTRY_FILES.filter((f) => f.endsWith('.d.ts')).map((f) => join(root, f));
    const program = ts.createProgram(entries, {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      strict: true,
      noEmit: true,
      types: ['node'],
    });
    const checker = program.getTypeChecker();
    const typesDir = join(root, 'dist/types');
    const resolve = (s: ts.Symbol) =>
      s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;

    const exported = new Map<ts.Symbol, string>();
    for (const entry of entries) {
      const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!);
      for (const s of checker.getExportsOfModule(module!)) exported.set(resolve(s), s.name);
    }
    const missing = new Set<string>();
    for (const [symbol, name] of exported) {
      const visit = (node: ts.Node): void => {
        const reference = ts.isTypeReferenceNode(node)
          ? node.typeName
          : ts.isExpressionWithTypeArguments(node)
            ? node.expression
            : ts.isTypeQueryNode(node)
              ? node.exprName
              : undefined;
        const found = reference && checker.getSymbolAtLocation(reference);
        const target = found && resolve(found);
        const file = target?.declarations?.[0]?.getSourceFile().fileName;
        if (
          target &&
          file?.startsWith(typesDir) &&
          !(target.flags & ts.SymbolFlags.TypeParameter) &&
          !exported.has(target)
        ) {
          missing.add(`${target.name} (${relative(typesDir, file)}), used by ${name}`);
        }
        ts.forEachChild(node, visit);
      };
      for (const declaration of symbol.declarations ?? []) visit(declaration);
    }
    expect(exported.size).toBeGreaterThan(50);
    expect([...missing]).toEqual([]);
  });
});

describe('installed from its tarball, as README "Install" says', () => {
  let project = '';
  let installed: SpawnSyncReturns<string> | null = null;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'brama-consumer-'));
    const packed = run('npm', [
      'pack',
      '--ignore-scripts',
      '--json',
      '--pack-destination',
      project,
    ]);
    expectOk(packed);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    // Nothing but the tarball to install (brama has no dependencies): no registry needed.
    installed = run('npm', ['install', join(project, filename), '--offline', '--no-audit'], {
      cwd: project,
    });
    // What the checks below use besides brama, taken from this repository's node_modules.
    for (const name of ['@types/node', 'ioredis', 'typescript', 'vitest']) {
      mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name), 'dir');
    }
  }, 120_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('installs with `npm install <tarball>`, ESM and CommonJS builds working together', () => {
    expectOk(installed!);
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules/brama/package.json'), 'utf8'),
    ) as { name: string };
    expect(manifest.name).toBe('brama');
    cpSync(join(root, 'test/package/dual.mjs'), join(project, 'dual.mjs'));
    const result = runNode('dual.mjs', project);
    expectOk(result);
    expect(result.stdout.trim().split('\n')).toContain('ok');
    // brama/metrics where @opentelemetry/api is not installed at all.
    expect(existsSync(join(project, 'node_modules/@opentelemetry/api'))).toBe(false);
    cpSync(join(root, 'test/package/metrics.mjs'), join(project, 'metrics.mjs'));
    const metrics = runNode('metrics.mjs', project);
    expectOk(metrics);
    expect(metrics.stdout.trim().split('\n')).toContain('ok');
  });

  it('installs the `brama` command (package bin): help, and bad usage exits 2 before connecting', () => {
    const bin = join(project, 'node_modules/.bin/brama');
    expect(existsSync(bin)).toBe(true);
    const help = run(bin, ['--help'], { cwd: project });
    expectOk(help);
    expect(help.stdout).toContain('Usage: brama <command>');
    const usage = run(bin, ['status'], { cwd: project, env: { BRAMA_REDIS_URL: '' } });
    expect(usage.status).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
  });

  it(
    'type-checks .cts and .mts files passing a Brama, a store and errors between each other',
    () => {
      cpSync(join(root, 'test/package/types'), join(project, 'types'), { recursive: true });
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = run(process.execPath, [tsc, '-p', 'types'], { cwd: project });
      expectOk(result);
      expect(result.stdout).toBe('');
    },
    TIMEOUT_MS * 3,
  );

  it(
    'runs the testing example and a class with standard decorators under vitest (documented config)',
    () => {
      const example = join(root, 'examples/vitest-decorators');
      const app = join(project, 'decorators');
      cpSync(example, app, { recursive: true });
      // README: "save it as a *.test.ts file in your project".
      cpSync(join(root, 'examples/testing.test-example.ts'), join(app, 'testing.test.ts'));
      const vitest = join(root, 'node_modules/vitest/vitest.mjs');
      const result = run(process.execPath, [vitest, 'run', '--root', app], {
        cwd: project,
        env: { CI: '1', NO_COLOR: '1' },
      });
      expectOk(result);
      expect(result.stdout).toMatch(/Test Files\s+2 passed \(2\)/);
      expect(result.stdout).toMatch(/Tests\s+\d+ passed \(\d+\)/);
      expect(result.stdout).not.toMatch(/failed|skipped/);
    },
    TIMEOUT_MS * 3,
  );
});
