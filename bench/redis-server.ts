/**
 * The Redis that scenario 6 and the fleet profiles measure against: a `redis-server` started for
 * the run on a free 127.0.0.1 port, without persistence, and killed at the end (and on any exit
 * of this process). A shared Redis has other clients, which skew every CPU figure; this one
 * serves the bench alone.
 *
 * Escape hatch: `BRAMA_BENCH_REDIS_URL=redis://host:port` measures against that server instead
 * (its other clients then count in the Redis CPU figures; the bench deletes its keys at the end).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** How long the server may take to answer its first PING. */
const START_TIMEOUT_MS = 5_000;

/** The Redis a run uses. */
export interface BenchRedis {
  readonly url: string;
  /** E.g. `Redis 7.0.15 started for this run on 127.0.0.1:40123 (no persistence)`. */
  readonly description: string;
  /** Whether the server was started here (and is killed by {@link BenchRedis.stop}). */
  readonly own: boolean;
  /** Kills the server started here (no-op for an external one); idempotent. */
  stop(): Promise<void>;
}

/** Every server started here and still running: killed when this process exits in any way. */
const running = new Set<ChildProcess>();
let hooked = false;

function killAllAtExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  // A signal would end the process without 'exit': turn it into an exit (which kills).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
  }
}

/** A port nobody listens on right now (listen on port 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The server's version, or rejects with why it cannot be used. */
export async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ...) says more than the rejection ("Connection is closed").
  let cause: unknown = null;
  client.on('error', (error: unknown) => (cause ??= error));
  try {
    await client.connect();
    const info = await client.info('server');
    return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown version';
  } catch (error) {
    const why = cause ?? error;
    throw new Error((why instanceof Error ? why.message : String(why)).replace(/\.$/, ''), {
      cause: error,
    });
  } finally {
    client.disconnect();
  }
}

async function startOwn(): Promise<BenchRedis> {
  killAllAtExit();
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  // Its working directory: nothing is written there without persistence, but not the repository.
  const child = spawn('redis-server', args, {
    cwd: os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failed: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      failed =
        error.code === 'ENOENT' ? 'redis-server is not installed (not on the PATH)' : error.message;
      running.delete(child);
      resolve();
    });
    child.once('exit', (code, signal) => {
      failed ??= `redis-server exited (${code ?? signal}): ${log.trim().split('\n').pop() ?? ''}`;
      running.delete(child);
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (running.has(child)) child.kill('SIGKILL');
    await exited;
  };
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (failed !== null) throw new Error(failed);
    try {
      const version = await redisVersion(url);
      return {
        url,
        description: `Redis ${version} started for this run on 127.0.0.1:${port} (no persistence, no other client)`,
        own: true,
        stop,
      };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not answer within ${START_TIMEOUT_MS} ms`, {
          cause: error,
        });
      }
      await sleep(20);
    }
  }
}

/**
 * Starts the run's Redis (or connects to `BRAMA_BENCH_REDIS_URL`). Rejects with why there is
 * none: the scenario is then reported as skipped with that reason.
 */
export async function startRedis(): Promise<BenchRedis> {
  const external = process.env.BRAMA_BENCH_REDIS_URL;
  if (external === undefined || external === '') return startOwn();
  const version = await redisVersion(external);
  const where = new URL(external);
  return {
    url: external,
    description: `Redis ${version} at ${where.hostname}:${where.port === '' ? '6379' : where.port} (BRAMA_BENCH_REDIS_URL: other clients count in its CPU figures)`,
    own: false,
    stop: () => Promise.resolve(),
  };
}

/** CPU seconds of the Redis server process (`used_cpu_user` + `used_cpu_sys` of INFO cpu). */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info);
    return m === null ? NaN : Number(m[1]);
  };
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Deletes every key under `prefix` (for an external server; one started here just dies). */
export async function cleanUp(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}
