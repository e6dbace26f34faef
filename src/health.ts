/**
 * `brama.health()`: one roll-up of every connection for readiness probes. `down` when a critical
 * connection's circuit is open or half-open, `degraded` when any connection's is or the store
 * works on local state, `ok` otherwise.
 */
import { invalidOption } from './core/errors.js';
import type { CircuitState } from './core/state.js';
import type { ConnectionStatus } from './core/status.js';

/** Which connections take the whole service down when their circuit is not closed. */
export type CriticalSpec = readonly string[] | ((status: ConnectionStatus) => boolean);

/** Options of `health`. */
export interface HealthOptions {
  /** Only connections in this scope (`null`: only connections without a scope). */
  scope?: string | null | undefined;
  /**
   * Connections whose open or half-open circuit makes the status `down`: their identifiers
   * (in any scope), or a predicate on their status. Default: none.
   */
  critical?: CriticalSpec | undefined;
}

/** Overall status: `ok`, `degraded` (something is not closed, or the store is degraded), `down`. */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/** One connection in a health report. */
export interface HealthConnection {
  readonly identifier: string;
  readonly scope: string | null;
  readonly state: CircuitState;
  readonly critical: boolean;
}

/** The result of `brama.health()`. */
export interface HealthReport {
  readonly status: HealthStatus;
  /** Whether the store works on local state (fleet mode: Redis unreachable or slow). */
  readonly storeDegraded: boolean;
  readonly connections: readonly HealthConnection[];
}

const CRITICAL_EXPECTED =
  'an array of non-empty identifier strings or a predicate (status) => boolean';

/** Reads the `critical` option into a predicate (validated once per call). */
export function criticalPredicate(critical: unknown): (status: ConnectionStatus) => boolean {
  if (critical === undefined || critical === null) return () => false;
  if (typeof critical === 'function') {
    const predicate = critical as (status: ConnectionStatus) => unknown;
    return (status) => {
      try {
        return predicate(status) === true;
      } catch {
        // A predicate that throws cannot call the connection critical: the probe must answer.
        return false;
      }
    };
  }
  if (Array.isArray(critical)) {
    const names = new Set<string>();
    for (const item of critical as unknown[]) {
      if (typeof item !== 'string' || item === '') {
        throw invalidOption('critical', CRITICAL_EXPECTED, item);
      }
      names.add(item);
    }
    return (status) => names.has(status.identifier);
  }
  throw invalidOption('critical', CRITICAL_EXPECTED, critical);
}

/** Rolls statuses up into a health report. */
export function rollUp(
  statuses: readonly ConnectionStatus[],
  isCritical: (status: ConnectionStatus) => boolean,
  storeDegraded: boolean,
): HealthReport {
  let down = false;
  let troubled = storeDegraded;
  const connections: HealthConnection[] = [];
  for (const status of statuses) {
    const critical = isCritical(status);
    const failing = status.state === 'open' || status.state === 'half_open';
    if (failing) {
      troubled = true;
      if (critical) down = true;
    }
    connections.push(
      Object.freeze({
        identifier: status.identifier,
        scope: status.scope,
        state: status.state,
        critical,
      }),
    );
  }
  const status: HealthStatus = down ? 'down' : troubled ? 'degraded' : 'ok';
  return Object.freeze({ status, storeDegraded, connections: Object.freeze(connections) });
}
