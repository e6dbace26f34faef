/**
 * Prepares and starts a benchmark entry (`run` or `profile`) in a plain Node process.
 *
 *   tsx bench/launch.ts run [flags]      (npm run bench -- [flags])
 *   tsx bench/launch.ts profile [flags]  (npm run bench:profile -- [flags])
 *
 * Expects dist/ to be built (the npm scripts run `npm run build` first). It compiles bench/ with
 * tsc into node_modules/.cache/brama-bench/js and copies the built package into
 * node_modules/.cache/brama-bench/node_modules/brama, so that:
 * - what is measured is the built dist/ that users run, not the sources through a TS loader
 *   (tsx's hooks and source-map support would also tax every `new Error()` of the peers);
 * - a rebuild of dist/ by someone else during a long run cannot change or delete the code
 *   being measured (scenario 5 starts child processes late in the run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, 'node_modules', '.cache', 'brama-bench');
const [entry = 'run', ...flags] = process.argv.slice(2);
if (entry !== 'run' && entry !== 'profile') throw new Error(`unknown entry ${entry}`);

if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  throw new Error('dist/ is not built: run `npm run build` first');
}

rmSync(cache, { recursive: true, force: true });
mkdirSync(cache, { recursive: true });
// Inside node_modules, no package.json up the tree says "module": this one does.
writeFileSync(path.join(cache, 'package.json'), '{ "private": true, "type": "module" }\n');

const tsc = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'bench/tsconfig.bench.json'],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const snapshot = path.join(cache, 'node_modules', 'brama');
mkdirSync(snapshot, { recursive: true });
cpSync(path.join(root, 'package.json'), path.join(snapshot, 'package.json'));
cpSync(path.join(root, 'dist'), path.join(snapshot, 'dist'), { recursive: true });

/** The revision measured: read now, next to the snapshot, not when the run ends. */
function revision(): string {
  const git = (...args: string[]): string =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (head === '') return 'unknown revision';
  return git('status', '--porcelain', '--', 'src') === ''
    ? head
    : `${head} + uncommitted src/ changes`;
}

const child = spawn(
  process.execPath,
  ['--expose-gc', path.join(cache, 'js', `${entry}.js`), ...flags],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '', BRAMA_BENCH_REVISION: revision() },
  },
);
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128));
});
