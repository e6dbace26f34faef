import type { CallMeter } from './call-meter.js';
import type { TripRule } from './rate-policy.js';
import type { CircuitOptions, CircuitSettings } from './settings.js';
import type { OutcomeWindow } from './window.js';
import { initialCircuit, type Circuit } from './state.js';

/** Free-form data attached to a connection at registration. */
export type Metadata = Readonly<Record<string, unknown>>;

/**
 * Everything known about one connection. Stores own these records: the circuit is replaced by
 * the pure transition functions, the counters are plain bookkeeping updated on every report.
 */
export interface ConnectionRecord {
  readonly identifier: string;
  readonly scope: string | null;
  circuit: Circuit;
  totalFailures: number;
  totalSuccesses: number;
  lastFailureTime: number | null;
  lastFailureReason: string | null;
  lastSuccessTime: number | null;
  readonly registeredAt: number;
  /** Last registration, report, state change, manual action or configure (drives cleanup). */
  lastActivityAt: number;
  metadata: Metadata;
  /** The connection's own settings; missing keys follow the global configuration. */
  options: CircuitOptions;
  /** Cache of the effective settings, valid while `settingsVersion` matches the registry's. */
  settings: CircuitSettings | null;
  settingsVersion: number;
  /** Set when the registry removed the record: a late wrapped-call result reports nothing. */
  removed: boolean;
  /** The recent outcomes the `'rate'` trip policy looks at (`null` under `'consecutive'`). */
  window: OutcomeWindow | null;
  /** Why the last outcome-driven opening happened (for its events); `null` otherwise. */
  trip: TripRule | null;
  /** @internal Call counts for `brama/metrics`: made on first use while an exporter is attached. */
  meter: CallMeter | null;
}

/** A new record in state `'unknown'`. */
export function createRecord(
  identifier: string,
  scope: string | null,
  options: CircuitOptions,
  metadata: Metadata,
  now: number,
): ConnectionRecord {
  return {
    identifier,
    scope,
    circuit: initialCircuit(now),
    totalFailures: 0,
    totalSuccesses: 0,
    lastFailureTime: null,
    lastFailureReason: null,
    lastSuccessTime: null,
    registeredAt: now,
    lastActivityAt: now,
    metadata,
    options,
    settings: null,
    settingsVersion: -1,
    removed: false,
    window: null,
    trip: null,
    meter: null,
  };
}

/** The text kept for a reason that cannot be rendered (its `toString` or `message` throws). */
export const UNPRINTABLE_REASON = '[reason could not be converted to text]';

/**
 * The text kept as `lastFailureReason`: strings as they are, errors as `Name: message`, other
 * thrown values by their `message` or as a string (objects without one: `null`). Never throws:
 * a value whose conversion throws (a throwing `toString`, `name` or `message` getter, a revoked
 * Proxy) is kept as {@link UNPRINTABLE_REASON}, so the outcome still counts like any other.
 */
export function reasonText(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason === 'string') return reason;
  try {
    if (reason instanceof Error) return String(reason);
    if (typeof reason === 'object') {
      const message = (reason as { message?: unknown }).message;
      return typeof message === 'string' ? message : null;
    }
  } catch {
    return UNPRINTABLE_REASON;
  }
  switch (typeof reason) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(reason);
    default:
      return null;
  }
}
