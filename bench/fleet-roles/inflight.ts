/**
 * Role `inflight`: one process keeping `workers` calls in flight through `brama.run` around a
 * 1 ms upstream (`setTimeout(1)`), with the memory store or the Redis store.
 */
import { Brama } from 'brama';
import { createRedisStore, type RedisStore } from 'brama/redis';
import type { FleetChildConfig } from '../fleet-protocol.js';
import { slow } from '../functions.js';
import { timeBatch, type Subject } from '../harness.js';
import { degradedReasons, type Handlers } from './common.js';

export async function inflight(config: FleetChildConfig): Promise<Handlers> {
  const workers = config.workers ?? 64;
  const store: RedisStore | undefined =
    config.store === 'redis'
      ? createRedisStore({ url: config.url, prefix: config.prefix })
      : undefined;
  const brama = new Brama(store === undefined ? {} : { store });
  const whyDegraded = degradedReasons(brama);
  await store?.ready();
  if (store?.degraded === true) throw new Error('the Redis store is degraded after ready()');
  brama.register('upstream');
  await store?.flush();

  const subject: Subject = {
    name: `${config.store ?? 'memory'} store`,
    // `n` calls by `workers` concurrent callers; done when every call and report is settled.
    batch: async (n) => {
      let started = 0;
      let ok = 0;
      const worker = async (): Promise<void> => {
        while (started < n) {
          started++;
          const v = await brama.run('upstream', slow);
          ok += v;
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      await store?.flush();
      if (store?.degraded === true)
        throw new Error(`the Redis store became degraded: ${whyDegraded()}`);
      return ok;
    },
  };
  return {
    warm: async ({ n, warmupMs }) => {
      const until = Date.now() + Number(warmupMs);
      do await timeBatch(subject, Number(n));
      while (Date.now() < until);
      return null;
    },
    /** One timed batch of `n` calls: calls per second. */
    batch: async ({ n }) => (Number(n) * 1e9) / (await timeBatch(subject, Number(n))),
    close: () => brama.close(),
  };
}
