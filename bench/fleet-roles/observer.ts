/**
 * Role `observer`: a process with its own Redis store on the propagation prefix; sends every
 * open and close of the tripped connection to the parent, timestamped in its handler.
 */
import { Brama } from 'brama';
import { createRedisStore } from 'brama/redis';
import {
  clockMs,
  TRIP_ID,
  TRIP_OPTIONS,
  type FleetChildConfig,
  type FleetMessage,
} from '../fleet-protocol.js';
import type { Handlers } from './common.js';

export async function observer(
  config: FleetChildConfig,
  send: (message: FleetMessage) => void,
): Promise<Handlers> {
  const store = createRedisStore({ url: config.url, prefix: config.prefix });
  const brama = new Brama({ store });
  await store.ready();
  if (store.degraded) throw new Error('the Redis store is degraded after ready()');
  brama.register(TRIP_ID, TRIP_OPTIONS);
  await store.flush();
  brama.subscribe(
    (event) => {
      const at = clockMs();
      if (event.type !== 'circuit_opened' && event.type !== 'circuit_closed') return;
      send({
        event: {
          type: event.type,
          origin: event.data.origin,
          at,
          available: brama.isAvailable(TRIP_ID),
        },
      });
    },
    { events: ['circuit_opened', 'circuit_closed'], identifier: TRIP_ID },
  );
  return {
    ping: () => clockMs(),
    state: async () => {
      await store.flush();
      return brama.status(TRIP_ID).state;
    },
    close: () => brama.close(),
  };
}
