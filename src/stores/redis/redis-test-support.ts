/**
 * Shared setup of the `*.redis.test.ts` files (test-only, never imported by the library): a real
 * Redis from `REDIS_URL`, skipped only outside CI when no `REDIS_URL` is given, a unique key
 * prefix per test file, and cleanup of every key under it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisScripts } from './commands.js';
import { keyPattern } from './keys.js';

/** The Redis to test against, or `undefined` when Redis tests are skipped. */
export const redisUrl: string | undefined =
  process.env.REDIS_URL ?? (process.env.CI ? 'redis://127.0.0.1:6379' : undefined);

/** A fresh client that fails fast (rather than retrying forever) when Redis is unreachable. */
export function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  // Connection errors surface through the failing commands (and `ready`); without a listener
  // ioredis would also print every reconnect attempt.
  client.on('error', () => {});
  return client;
}

/** Every key under `prefix`. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keyPattern(prefix), 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = connect(url);
  try {
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/** Clients, scripts bound to a unique prefix, and cleanup. */
export class RedisFixture {
  readonly prefix = `brama-test-${randomUUID()}`;
  readonly clients: Redis[];
  readonly scripts: RedisScripts[];

  constructor(url: string, clientCount: number, ttlMs = 600_000) {
    this.clients = Array.from({ length: clientCount }, () => connect(url));
    // Every report announces and answers with the whole connection (the lean answer of a
    // report that changes nothing has its own tests).
    this.scripts = this.clients.map(
      (c) =>
        new RedisScripts(c, { prefix: this.prefix, ttlMs, announceEvery: 0, fullReports: true }),
    );
  }

  /** The first client. */
  get redis(): Redis {
    return this.clients[0]!;
  }

  /** The first client's scripts. */
  get main(): RedisScripts {
    return this.scripts[0]!;
  }

  /** Fails fast when Redis is unreachable. */
  async ready(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.ping()));
  }

  /** Every key under this fixture's prefix. */
  keys(): Promise<string[]> {
    return keysUnder(this.redis, this.prefix);
  }

  /** Deletes every key under the prefix and closes the clients. */
  async dispose(): Promise<void> {
    if (this.clients.some((c) => c.status !== 'ready')) {
      // Never connected (the suite has already failed in `ready`): nothing to clean.
      for (const c of this.clients) c.disconnect();
      return;
    }
    try {
      const keys = await this.keys();
      if (keys.length > 0) await this.redis.del(...keys);
    } finally {
      await Promise.allSettled(this.clients.map((c) => c.quit()));
    }
  }
}
