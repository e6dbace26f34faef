/**
 * What bench/scenarios/fleet*.ts and their child processes (bench/fleet-child.ts) share: the IPC
 * messages, the child configuration and the connection setups. No side effects: both sides
 * import it.
 */
import { ONE_HOUR } from './peers.js';

export type FleetRole = 'available' | 'member' | 'inflight' | 'observer' | 'caller';

export interface FleetChildConfig {
  readonly role: FleetRole;
  readonly url: string;
  /** Key prefix of this child's connections (processes that share circuits share it). */
  readonly prefix: string;
  /** `available`, `inflight`: which store the Brama instance uses. */
  readonly store?: 'memory' | 'redis';
  /** `member`: how many connections it reports on (`c0`, `c1`, ...). */
  readonly connections?: number;
  /** `member`: reports issued per tick before awaiting them. */
  readonly perTick?: number;
  /** `inflight`, `caller`: calls kept in flight. */
  readonly workers?: number;
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

/** One timed window of a `member` (reports as fast as it can for a while). */
export interface ReportWindow {
  /** Reports issued and awaited (each tick's replies are in before the next tick). */
  readonly reports: number;
  readonly ns: number;
  /** CPU time of this process's main thread (the event loop), µs per report; NaN if unknown. */
  readonly mainCpuUs: number;
}

/** What one `caller` saw while its dependency went down (times: {@link clockMs}). */
export interface OutageLog {
  /** When each call reached the dependency. */
  readonly starts: readonly number[];
  /** When each of those calls was answered (same order), `Infinity` if still unanswered. */
  readonly ends: readonly number[];
  /** When this process first saw the circuit open at or after the dependency went down. */
  readonly openedAt: number | null;
  /** Calls refused (open circuit) and calls that failed, counted by the wrapper. */
  readonly refused: number;
  readonly failed: number;
}

/** The connection the propagation measurement trips: one failure opens it for an hour. */
export const TRIP_ID = 'trip';
export const TRIP_OPTIONS = { maxAttempts: 1, expiry: ONE_HOUR } as const;

/**
 * The dependency that goes down: the default `maxAttempts`, a short fixed open period, one trial
 * per half-open period, so a window of a few hundred ms holds several open periods.
 */
export const OUTAGE_OPTIONS = {
  maxAttempts: 5,
  expiry: 100,
  expiryStrategy: 'fixed',
  halfOpenProbes: 1,
} as const;

/** A member's report loop: one pass over the connections in this many is all failures. */
export const FAILURE_PASS_EVERY = 4;

/** The members' `commandTimeout` (the store's default is 1,000 ms; see fleet-roles/member.ts). */
export const MEMBER_COMMAND_TIMEOUT_MS = 5_000;

/** Identifiers of a member's connections. */
export function connectionIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `c${i}`);
}

/**
 * The state hash of connection `id` (no scope) under `prefix`, as src/stores/redis/keys.ts
 * builds it (`{scope|identifier}` tag; the identifiers used here need no escaping).
 */
export function stateKey(prefix: string, id: string): string {
  return `${prefix}:{|${id}}:state`;
}

/** The key a baseline increments for connection `id` (one per connection, like brama's). */
export function counterKey(prefix: string, id: string): string {
  return `${prefix}:n:{${id}}`;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes of one host. */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}
