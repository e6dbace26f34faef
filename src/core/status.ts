import type { ConnectionRecord, Metadata } from './record.js';
import { failureRate, slowCallRate } from './rate-policy.js';
import type { CircuitSettings } from './settings.js';
import type { CircuitState } from './state.js';

/**
 * A plain, frozen snapshot of one connection, as `status`, `list` and events return it, with
 * its effective settings.
 */
export interface ConnectionStatus extends CircuitSettings {
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
  /** When the circuit last opened. */
  readonly openedAt: number | null;
  /** While open: when it may half-open; `null` otherwise. */
  readonly openUntil: number | null;
  /** When the state last changed (registration counts as the first change). */
  readonly lastStateChangeAt: number;
  /** Milliseconds since `lastStateChangeAt`. */
  readonly timeSinceLastStateChange: number;
  readonly registeredAt: number;
  readonly metadata: Metadata;
  /**
   * `'rate'`: the share of failures among the outcomes in the window (0..1), `null` while it
   * holds fewer than `minimumCalls`; always `null` under `'consecutive'`.
   */
  readonly failureRate: number | null;
  /** `'rate'`: the share of slow calls in the window, like `failureRate`. */
  readonly slowCallRate: number | null;
  /** `'rate'`: how many outcomes the window holds (0 under `'consecutive'`). */
  readonly windowCalls: number;
}

/** Builds the snapshot of a (settled) record at `now`. */
export function toStatus(r: ConnectionRecord, s: CircuitSettings, now: number): ConnectionStatus {
  const c = r.circuit;
  const outcomes = r.totalSuccesses + r.totalFailures;
  const w = s.tripPolicy === 'rate' ? r.window : null;
  w?.advance(now);
  return Object.freeze({
    identifier: r.identifier,
    scope: r.scope,
    state: c.state,
    failureCount: c.failureCount,
    totalFailures: r.totalFailures,
    totalSuccesses: r.totalSuccesses,
    successRate: outcomes === 0 ? null : r.totalSuccesses / outcomes,
    lastFailureTime: r.lastFailureTime,
    lastFailureReason: r.lastFailureReason,
    lastSuccessTime: r.lastSuccessTime,
    openedAt: c.openedAt,
    openUntil: c.openUntil,
    lastStateChangeAt: c.changedAt,
    timeSinceLastStateChange: Math.max(0, now - c.changedAt),
    registeredAt: r.registeredAt,
    metadata: r.metadata,
    maxAttempts: s.maxAttempts,
    expiry: s.expiry,
    expiryStrategy: s.expiryStrategy,
    initialExpiry: s.initialExpiry,
    maxExpiry: s.maxExpiry,
    backoffFactor: s.backoffFactor,
    halfOpenProbes: s.halfOpenProbes,
    probeTimeout: s.probeTimeout,
    tripPolicy: s.tripPolicy,
    failureRateThreshold: s.failureRateThreshold,
    slowCallMs: s.slowCallMs,
    slowCallRateThreshold: s.slowCallRateThreshold,
    window: s.window,
    minimumCalls: s.minimumCalls,
    successThreshold: s.successThreshold,
    rampUpMs: s.rampUpMs,
    mode: s.mode,
    failureRate: failureRate(w, s),
    slowCallRate: slowCallRate(w, s),
    windowCalls: w?.calls ?? 0,
  });
}
