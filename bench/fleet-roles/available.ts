/**
 * Role `available`: `isAvailable` on a closed and an open connection, with the memory store or
 * the Redis store (one store per process, as an application runs one).
 */
import { Brama } from 'brama';
import { createRedisStore, type RedisStore } from 'brama/redis';
import type { FleetChildConfig } from '../fleet-protocol.js';
import { timeBatch, warmUp, type Subject } from '../harness.js';
import { ONE_HOUR } from '../peers.js';
import { subjectOf, type Handlers } from './common.js';

export async function available(config: FleetChildConfig): Promise<Handlers> {
  const store: RedisStore | undefined =
    config.store === 'redis'
      ? createRedisStore({ url: config.url, prefix: config.prefix })
      : undefined;
  const brama = new Brama(store === undefined ? {} : { store });
  await store?.ready();
  if (store?.degraded === true) throw new Error('the Redis store is degraded after ready()');
  brama.register('closed');
  brama.success('closed');
  brama.register('open');
  brama.openCircuit('open', { expiry: ONE_HOUR });
  await store?.flush();
  for (const state of ['closed', 'open']) {
    const seen = brama.status(state).state;
    if (seen !== state) throw new Error(`connection ${state} is ${seen}`);
  }
  // One loop per subject (not one closure factory), so each loop's call sites stay monomorphic.
  const subjects = new Map<string, Subject>([
    [
      'closed',
      {
        name: 'closed',
        batch: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) if (brama.isAvailable('closed')) s++;
          return s;
        },
      },
    ],
    [
      'open',
      {
        name: 'open',
        batch: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) if (!brama.isAvailable('open')) s++;
          return s;
        },
      },
    ],
  ]);
  return {
    calibrate: ({ subject, warmupMs, batchMs }) =>
      warmUp(subjectOf(subjects, subject), {
        rounds: 0,
        warmupMs: Number(warmupMs),
        batchMs: Number(batchMs),
      }),
    batch: async ({ subject, n }) =>
      (await timeBatch(subjectOf(subjects, subject), Number(n))) / Number(n),
    close: () => brama.close(),
  };
}
