/**
 * `brama/redis`: fleet mode. A store that lets every process using the same Redis and prefix
 * share one circuit per connection:
 *
 * ```ts
 * import { Brama } from 'brama';
 * import { createRedisStore } from 'brama/redis';
 *
 * const brama = new Brama({ store: createRedisStore({ url: 'redis://127.0.0.1:6379' }) });
 * ```
 *
 * ioredis is an optional peer dependency: only this entry imports it.
 */
import { Redis } from 'ioredis';
import { parseRedisStoreOptions, type RedisStoreOptions } from './stores/redis/options.js';
import { RedisStore } from './stores/redis/redis-store.js';

/**
 * Creates a Redis-backed store for `new Brama({ store })`. Throws `BRAMA_INVALID_OPTION` for a
 * bad option. With `url`, the store creates its own clients (and closes them in `close()`);
 * with `client`, it uses yours for commands and a duplicate of it for pub/sub.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const settings = parseRedisStoreOptions(options);
  return RedisStore.create(
    settings,
    (url) =>
      new Redis(url, {
        // Commands sent in one tick travel as one pipeline: reports from many concurrent calls
        // cost one round trip.
        enableAutoPipelining: true,
        connectTimeout: Math.max(1000, settings.commandTimeout),
        // close() of a store whose Redis is down must not keep the process alive for long.
        disconnectTimeout: Math.min(2000, settings.commandTimeout),
      }),
  );
}

export { RedisStore };
export type { DegradedPolicy, RedisStoreOptions } from './stores/redis/options.js';
