/**
 * A connection as Redis stores it, shaped like `ConnectionStatus` for `brama status --json`.
 * Redis holds the circuit, the counters, the connection's own options and its metadata, but
 * not the registry-wide options of the fleet's processes: the effective settings
 * (`maxAttempts`, `expiry`, ...) are left out, and `options` lists only the connection's own.
 */
import { failureRate, slowCallRate, type TripRule } from '../core/rate-policy.js';
import { DEFAULT_SETTINGS, type CircuitOptions, type CircuitSettings } from '../core/settings.js';
import type { ConnectionStatus } from '../core/status.js';
import type { RemoteConnection } from '../stores/redis/reply.js';

/**
 * One connection stored under the prefix: the fields of `ConnectionStatus` but its effective
 * settings (times are Redis server time), and what else Redis holds.
 */
export type StoredConnectionStatus = Omit<ConnectionStatus, keyof CircuitSettings> & {
  /** Last activity anywhere in the fleet (keys expire a `keyTtl` after it). */
  readonly lastActivityAt: number;
  /** The connection's own options as stored (registry-wide options are not in Redis). */
  readonly options: CircuitOptions;
  /** Why the last outcome-driven opening happened, `null` when none is recorded. */
  readonly trip: TripRule | null;
  /** Half-open trial leases held fleet-wide right now. */
  readonly liveTrials: number;
  /** Bumped by every transition and manual action. */
  readonly generation: number;
  /** Bumped by every change in Redis. */
  readonly version: number;
};

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
  // The rates need only minimumCalls: the connection's own, else the default.
  const s = { minimumCalls: remote.options.minimumCalls ?? DEFAULT_SETTINGS.minimumCalls };
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
    failureRate: failureRate(w, s),
    slowCallRate: slowCallRate(w, s),
    windowCalls: w?.calls ?? 0,
    trip: remote.trip,
    liveTrials: remote.liveTrials,
    generation: c.generation,
    version: remote.version,
  });
}
