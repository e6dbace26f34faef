/**
 * Role `caller`: one process of a fleet calling a dependency through `brama.run`, `workers`
 * calls in flight, 1 ms per call. From `downAt` on, the dependency fails every call it answers
 * (calls in flight at that moment fail too). The log says when each call reached it.
 */
import { Brama, isBramaError } from 'brama';
import { createRedisStore } from 'brama/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clockMs,
  OUTAGE_OPTIONS,
  type FleetChildConfig,
  type OutageLog,
} from '../fleet-protocol.js';
import { degradedReasons, type Handlers } from './common.js';

const DOWN = new Error('dependency down');

export async function caller(config: FleetChildConfig): Promise<Handlers> {
  const workers = config.workers ?? 16;
  const store = createRedisStore({ url: config.url, prefix: config.prefix });
  const brama = new Brama({ store });
  const whyDegraded = degradedReasons(brama);
  await store.ready();
  if (store.degraded) throw new Error('the Redis store is degraded after ready()');

  return {
    /** Registers the round's connection (fresh per round) and closes it fleet-wide. */
    prepare: async ({ connection }) => {
      const id = String(connection);
      brama.register(id, OUTAGE_OPTIONS);
      brama.success(id);
      await store.flush();
      return brama.status(id).state;
    },
    /** Calls until `until`; the dependency is down from `downAt`. Resolves an OutageLog. */
    run: async ({ connection, downAt, until }): Promise<OutageLog> => {
      const id = String(connection);
      const down = Number(downAt);
      const end = Number(until);
      const starts: number[] = [];
      const ends: number[] = [];
      let openedAt: number | null = null;
      const subscription = brama.subscribe(
        () => {
          const at = clockMs();
          if (openedAt === null && at >= down) openedAt = at;
        },
        { events: ['circuit_opened'], identifier: id },
      );
      const dependency = (): Promise<number> => {
        const i = starts.push(clockMs()) - 1;
        ends.push(Infinity);
        return new Promise((resolve, reject) =>
          setTimeout(() => {
            const now = clockMs();
            ends[i] = now;
            if (now >= down) reject(DOWN);
            else resolve(1);
          }, 1),
        );
      };
      let refused = 0;
      let failed = 0;
      const worker = async (): Promise<void> => {
        while (clockMs() < end) {
          try {
            await brama.run(id, dependency);
          } catch (error) {
            if (isBramaError(error, 'BRAMA_CIRCUIT_OPEN')) {
              refused++;
              // The next request comes about one call's time later, as while calls succeeded.
              await sleep(1);
            } else if (error === DOWN) failed++;
            else throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, worker));
      await store.flush();
      subscription.unsubscribe();
      if (store.degraded) throw new Error(`the Redis store became degraded: ${whyDegraded()}`);
      // Only calls still unanswered at `downAt` or later matter.
      const keep = ends.flatMap((e, i) => (e >= down ? [i] : []));
      return {
        starts: keep.map((i) => starts[i]!),
        ends: keep.map((i) => ends[i]!),
        openedAt,
        refused,
        failed,
      };
    },
    close: () => brama.close(),
  };
}
