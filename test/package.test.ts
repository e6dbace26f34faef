/**
 * Runs the built package (dist/) the way consumers load it: by name, from ESM and CommonJS, and
 * checks that a process using it exits on its own. Needs `npm run build` first (`npm test` does).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 20_000;
const BUILT = [
  'dist/index.js',
  'dist/index.cjs',
  'dist/index.d.ts',
  'dist/testing/index.js',
  'dist/testing/index.cjs',
  'dist/testing/index.d.ts',
  'dist/redis/index.js',
  'dist/redis/index.cjs',
  'dist/redis/index.d.ts',
];

function runNode(script: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'test/package', script)], {
    cwd: root,
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
}

function explain(result: SpawnSyncReturns<string>): string {
  return [
    `status ${result.status}, signal ${result.signal}, error ${result.error?.message ?? 'none'}`,
    `stdout: ${result.stdout}`,
    `stderr: ${result.stderr}`,
  ].join('\n');
}

describe('built package', () => {
  beforeAll(() => {
    const missing = BUILT.filter((file) => !existsSync(join(root, file)));
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
      expect(result.error, explain(result)).toBeUndefined();
      expect(result.status, explain(result)).toBe(0);
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
});
