/**
 * A connection as Redis stores it, shaped like `ConnectionStatus` for `brama status --json`.
 * Redis holds the circuit, the counters, the connection's own options and its metadata, but
 * not the registry-wide options of the fleet's processes: the effective settings
 * (`maxAttempts`, `expiry`, ...) are left out, and `options` lists only the connection's own.
 */
import type { Metadata } from '../core/record.js';
import type { TripRule } from '../core/rate-policy.js';
import { DEFAULT_SETTINGS, type CircuitOptions } from '../core/settings.js';
import type { CircuitState } from '../core/state.js';
import type { RemoteConnection } from '../stores/redis/reply.js';

/** One connection stored under the prefix: the state fields of `ConnectionStatus`, and more. */
export interface StoredConnectionStatus {
  readonly identifier: string;
  /** `null` when the connection has no scope. */
  readonly scope: string | null;
  readonly state: CircuitState;
  /** Consecutive failures. */
  readonly failureCount: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  /** `totalSuccesses / (totalSuccesses + totalFailures)`, `null` before any outcome. */
  readonly successRate: number | null;
  readonly lastFailureTime: number | null;
  readonly lastFailureReason: string | null;
  readonly lastSuccessTime: number | null;
  readonly openedAt: number | null;
  readonly openUntil: number | null;
  readonly lastStateChangeAt: number;
  /** Milliseconds since `lastStateChangeAt`, by Redis server time. */
  readonly timeSinceLastStateChange: number;
  readonly registeredAt: number;
  /** Last activity anywhere in the fleet (keys expire a `keyTtl` after it). */
  readonly lastActivityAt: number;
  readonly metadata: Metadata;
  /** The connection's own options as stored (registry-wide options are not in Redis). */
  readonly options: CircuitOptions;
  /**
   * `'rate'` windows: failures among the window's outcomes, `null` without a window or while
   * it holds fewer than `minimumCalls` (the connection's own, else the default 10).
   */
  readonly failureRate: number | null;
  /** `'rate'` windows: the share of slow calls, like `failureRate`. */
  readonly slowCallRate: number | null;
  /** How many outcomes the `'rate'` window holds (0 without one). */
  readonly windowCalls: number;
  /** Why the last outcome-driven opening happened, `null` when none is recorded. */
  readonly trip: TripRule | null;
  /** Half-open trial leases held fleet-wide right now. */
  readonly liveTrials: number;
  /** Bumped by every transition and manual action. */
  readonly generation: number;
  /** Bumped by every change in Redis. */
  readonly version: number;
}

/** The status of `remote`, stored as `identifier`/`scope`, at Redis server time `now`. */
export function storedStatus(
  identifier: string,
  scope: string | null,
  remote: RemoteConnection,
  now: number,
): StoredConnectionStatus {
  const c = remote.circuit;
  const outcomes = remote.totalSuccesses + remote.totalFailures;
  const w = remote.window;
  const minimumCalls = remote.options.minimumCalls ?? DEFAULT_SETTINGS.minimumCalls;
  const rated = w !== null && w.calls > 0 && w.calls >= minimumCalls;
  return Object.freeze({
    identifier,
    scope,
    state: c.state,
    failureCount: c.failureCount,
    totalFailures: remote.totalFailures,
    totalSuccesses: remote.totalSuccesses,
    successRate: outcomes === 0 ? null : remote.totalSuccesses / outcomes,
    lastFailureTime: remote.lastFailureTime,
    lastFailureReason: remote.lastFailureReason,
    lastSuccessTime: remote.lastSuccessTime,
    openedAt: c.openedAt,
    openUntil: c.openUntil,
    lastStateChangeAt: c.changedAt,
    timeSinceLastStateChange: Math.max(0, now - c.changedAt),
    registeredAt: remote.registeredAt,
    lastActivityAt: remote.lastActivityAt,
    metadata: remote.metadata,
    options: remote.options,
    failureRate: rated ? w.failures / w.calls : null,
    slowCallRate: rated ? w.slow / w.calls : null,
    windowCalls: w?.calls ?? 0,
    trip: remote.trip,
    liveTrials: remote.liveTrials,
    generation: c.generation,
    version: remote.version,
  });
}
