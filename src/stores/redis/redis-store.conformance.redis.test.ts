import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { Brama } from '../../brama.js';
import { createRedisStore } from '../../redis.js';
import { describeStoreConformance, type StoreHarness } from '../store-conformance.js';
import type { RedisStore } from './redis-store.js';
import { deleteKeys, redisUrl } from './redis-test-support.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function redisHarness(url: string): StoreHarness {
  const prefix = `brama-test-${randomUUID()}`;
  const made: { brama: Brama; store: RedisStore }[] = [];
  const storeOf = (brama: Brama): RedisStore => {
    const found = made.find((m) => m.brama === brama);
    if (!found) throw new Error('not created by this harness');
    return found.store;
  };
  return {
    create: async (options) => {
      const store = createRedisStore({ url, prefix });
      const brama = new Brama({ ...options, store });
      made.push({ brama, store });
      await store.ready();
      if (store.degraded) throw new Error(`Redis at ${url} is unreachable`);
      return brama;
    },
    sync: (brama) => storeOf(brama).flush(),
    advance: sleep,
    dispose: async () => {
      await Promise.all(made.map((m) => m.brama.close()));
      await deleteKeys(url, prefix);
    },
  };
}

if (redisUrl === undefined) {
  describe.skip('store conformance: RedisStore (REDIS_URL is not set)', () => {});
} else {
  const url = redisUrl;
  describeStoreConformance('RedisStore', () => redisHarness(url));
}
