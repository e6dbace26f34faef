/**
 * What bench/scenarios/fleet.ts and its child processes (bench/fleet-child.ts) share: the IPC
 * messages, the child configuration and the trip setup. No side effects: both sides import it.
 */
import { ONE_HOUR } from './peers.js';

export type FleetRole = 'available' | 'reports' | 'observer';

export interface FleetChildConfig {
  readonly role: FleetRole;
  readonly url: string;
  /** Key prefix of this child's connections (each measurement has its own). */
  readonly prefix: string;
  /** `available`: which store the Brama instance uses. */
  readonly store?: 'memory' | 'redis';
  /** `reports`: reports issued per tick before awaiting their replies. */
  readonly perTick?: number;
}

export interface FleetRequest {
  readonly id: number;
  readonly cmd: string;
  readonly [arg: string]: unknown;
}

export type FleetMessage =
  | { readonly ready: true }
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }
  | { readonly event: ObservedEvent };

/** A transition of the tripped connection, as the observer saw it. */
export interface ObservedEvent {
  readonly type: 'circuit_opened' | 'circuit_closed';
  readonly origin: 'local' | 'remote';
  /** When the handler ran: `performance.timeOrigin + performance.now()` of the observer (ms). */
  readonly at: number;
  /** `isAvailable` of the connection inside the handler. */
  readonly available: boolean;
}

/** One timed batch of the `reports` role. */
export interface ReportBatch {
  readonly ns: number;
  /** CPU time (user + system) of this process per operation, in µs: every thread. */
  readonly nodeCpuUs: number;
  /**
   * CPU time of this process's main thread (the event loop) per operation, in µs, from
   * /proc/thread-self/stat (10 ms ticks); `NaN` where that file does not exist.
   */
  readonly mainCpuUs: number;
  /** CPU time of the Redis server's main thread per operation, in µs (all clients). */
  readonly redisCpuUs: number;
}

/** The connection the propagation measurement trips: one failure opens it for an hour. */
export const TRIP_ID = 'trip';
export const TRIP_OPTIONS = { maxAttempts: 1, expiry: ONE_HOUR } as const;

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes of one host. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}
