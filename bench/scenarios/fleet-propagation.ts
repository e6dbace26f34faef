/**
 * Scenario 6, propagation: this process trips a circuit, a child process (the observer, with
 * its own store and connections) records when it sees it open; then this process closes it
 * again. Once with nothing else running, once while another process reports as fast as it can.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Brama, type BramaEvent } from 'brama';
import { createRedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import { progress, withChildren } from '../fleet-children.js';
import { clockMs, TRIP_ID, TRIP_OPTIONS, type FleetChildConfig } from '../fleet-protocol.js';

/** How long the observer may take to see a trip before it counts as lost. */
export const SEE_TIMEOUT_MS = 5_000;
/** Idle time between two trips (and between a trip and its reset). */
const TRIP_GAP_MS = 5;

export interface PropagationPlan {
  readonly trips: number;
  /** The busy reporter: connections it reports on, one report each per tick. */
  readonly loadConnections: number;
}

/** The times of one series of trips (ms). */
export interface TripTimes {
  /** failure() in this process → circuit_opened (origin 'remote') in the observer. */
  readonly remoteOpenMs: number[];
  /** failure() → circuit_opened (origin 'local') in this process. */
  readonly localOpenMs: number[];
  /** closeCircuit() in this process → circuit_closed (origin 'remote') in the observer. */
  readonly remoteCloseMs: number[];
  /** A `PING` from this process to Redis just before each trip (context: Redis' latency). */
  readonly pingMs: number[];
  /** Trips the observer did not see within {@link SEE_TIMEOUT_MS}. */
  lost: number;
  /** Observed opens that were not remote, or where `isAvailable` was still true. */
  anomalies: number;
}

/** The trips with nothing else running, then the same under load. */
export interface Propagation extends TripTimes {
  readonly trips: number;
  /** The same trips while another process reports outcomes as fast as it can. */
  readonly loaded: TripTimes & { readonly reportsPerSecond: number };
  /** The busy reporter's connections (one report each per tick). */
  readonly loadConnections: number;
  /** Clock check: observer clock − this clock, from the fastest of the IPC round trips. */
  readonly clockOffsetMs: number;
  readonly ipcRttMs: number;
  /** Idle time between two steps (trip, reset), ms. */
  readonly gapMs: number;
}

export async function measurePropagation(
  url: string,
  prefix: string,
  plan: PropagationPlan,
): Promise<Propagation> {
  const shared = `${prefix}:propagation`;
  const configs: FleetChildConfig[] = [
    { role: 'observer', url, prefix: shared },
    {
      role: 'member',
      url,
      prefix: `${prefix}:load`,
      connections: plan.loadConnections,
      perTick: plan.loadConnections,
    },
  ];
  return withChildren(configs, async ([observerChild, loadChild]) => {
    const observer = observerChild!;
    const load = loadChild!;
    const store = createRedisStore({ url, prefix: shared });
    const pinger = new Redis(url);
    const brama = new Brama({ store });
    const local: { type: string; at: number }[] = [];
    brama.subscribe(
      (event: BramaEvent) => {
        const at = clockMs();
        if (
          (event.type === 'circuit_opened' || event.type === 'circuit_closed') &&
          event.data.origin === 'local'
        )
          local.push({ type: event.type, at });
      },
      { identifier: TRIP_ID },
    );
    try {
      await store.ready();
      if (store.degraded) throw new Error('the Redis store is degraded after ready()');

      // Clock check: both clocks are performance.timeOrigin + performance.now() on one host;
      // the fastest IPC round trip bounds how far apart they can be.
      let best = { rtt: Infinity, offset: 0 };
      for (let i = 0; i < 50; i++) {
        const t1 = clockMs();
        const remote = await observer.call<number>('ping');
        const t2 = clockMs();
        if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: remote - (t1 + t2) / 2 };
      }

      brama.register(TRIP_ID, TRIP_OPTIONS);
      brama.success(TRIP_ID); // unknown → closed, fleet-wide
      await store.flush();
      await observer.next('circuit_closed', SEE_TIMEOUT_MS);

      const localAt = async (type: string, t0: number): Promise<number> => {
        for (let i = 0; i < 1_000; i++) {
          const found = local.find((e) => e.type === type && e.at >= t0);
          if (found !== undefined) return found.at;
          await store.flush();
          await sleep(0);
        }
        throw new Error(`this process never saw its own ${type}`);
      };

      const trips = async (label: string): Promise<TripTimes> => {
        const times: TripTimes = {
          remoteOpenMs: [],
          localOpenMs: [],
          remoteCloseMs: [],
          pingMs: [],
          lost: 0,
          anomalies: 0,
        };
        progress(`  6 fleet propagation${label}: ${plan.trips} trips `);
        for (let trip = 0; trip < plan.trips; trip++) {
          await sleep(TRIP_GAP_MS);
          const p0 = clockMs();
          await pinger.ping();
          times.pingMs.push(clockMs() - p0);
          local.length = 0;
          const t0 = clockMs();
          brama.failure(TRIP_ID);
          const opened = await observer.next('circuit_opened', SEE_TIMEOUT_MS);
          times.localOpenMs.push((await localAt('circuit_opened', t0)) - t0);
          if (opened === null) times.lost++;
          else {
            times.remoteOpenMs.push(opened.at - t0);
            if (opened.origin !== 'remote' || opened.available) times.anomalies++;
          }
          await sleep(TRIP_GAP_MS);
          const t1 = clockMs();
          brama.closeCircuit(TRIP_ID);
          const closed = await observer.next('circuit_closed', SEE_TIMEOUT_MS);
          await localAt('circuit_closed', t1);
          if (closed !== null) times.remoteCloseMs.push(closed.at - t1);
          else {
            // Missed: make sure the observer is closed again before the next trip.
            const state = await observer.call<string>('state');
            if (state !== 'closed') throw new Error(`observer stuck in ${state}`);
          }
          if ((trip + 1) % Math.max(1, Math.round(plan.trips / 10)) === 0) progress('.');
        }
        progress('\n');
        return times;
      };

      const idle = await trips('');
      // The same trips while a third process reports as fast as it can, one report per
      // connection per tick (nothing to coalesce: the most commands per report), on its own
      // prefix: Redis and the cores are busy, as in a loaded fleet.
      await load.call('background');
      let loaded: TripTimes;
      let loadRate: number;
      try {
        loaded = await trips(' under load');
      } finally {
        loadRate = await load.call<number>('stop');
      }
      return {
        trips: plan.trips,
        ...idle,
        loaded: { ...loaded, reportsPerSecond: loadRate },
        loadConnections: plan.loadConnections,
        clockOffsetMs: best.offset,
        ipcRttMs: best.rtt,
        gapMs: TRIP_GAP_MS,
      };
    } finally {
      await brama.close();
      pinger.disconnect();
    }
  });
}
