import type { BramaError } from '../core/errors.js';
import type { CircuitState } from '../core/state.js';
import type { TripRule } from '../core/rate-policy.js';
import type { ConnectionStatus } from '../core/status.js';

/** Where a change was decided: in this process, or in another process of the fleet (fleet mode). */
export type ChangeOrigin = 'local' | 'remote';

/**
 * What caused a transition. `'sync'`: fleet mode loaded a state this process did not see
 * happen (adopting a connection at registration, reconciling after missed messages).
 */
export type TransitionCause =
  'success' | 'failure' | 'expiry' | 'manual' | 'reset' | 'forced' | 'sync';

/** Data of `state_change` and of the `circuit_*` events. */
export interface TransitionData {
  readonly status: ConnectionStatus;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** The reason given to a manual action, or the failure reason that tripped the circuit. */
  readonly reason: unknown;
  readonly cause: TransitionCause;
  readonly origin: ChangeOrigin;
  /**
   * For an opening caused by an outcome: the rule that decided it (`consecutive_failures`,
   * `failure_rate` or `slow_call_rate` with the rate and threshold, `retry_after`, or
   * `failed_trial` for a half-open trial that failed); `null` for every other transition.
   */
  readonly trip: TripRule | null;
}

/** Data of `store_degraded`. */
export interface StoreDegradedData {
  /**
   * Why the store works on local state: a `BramaError` with code `BRAMA_STORE_UNAVAILABLE`,
   * whose `cause` is the backend's own error when there is one.
   */
  readonly error: BramaError;
}

/** The `data` of each event type. */
export interface BramaEventDataMap {
  registration: { readonly status: ConnectionStatus };
  connection_unregistered: { readonly status: ConnectionStatus };
  connection_removed: { readonly status: ConnectionStatus; readonly inactiveForMs: number };
  success: { readonly status: ConnectionStatus };
  failure: { readonly status: ConnectionStatus; readonly reason: unknown };
  state_change: TransitionData;
  circuit_opened: TransitionData;
  circuit_half_opened: TransitionData;
  circuit_closed: TransitionData;
  circuit_reset: TransitionData;
  cleanup: { readonly removed: number };
  store_degraded: StoreDegradedData;
  store_recovered: { readonly downtimeMs: number };
}

/** Every event type. */
export type BramaEventType = keyof BramaEventDataMap;

/**
 * An event of type `K`: `{ type, timestamp, identifier, scope, data }`. For a union of types,
 * the union of their events (narrowed by checking `type`).
 */
export type BramaEventOf<K extends BramaEventType> = K extends BramaEventType
  ? {
      readonly type: K;
      /** Epoch ms, from the registry's clock. */
      readonly timestamp: number;
      /** The connection, or `null` for registry-wide events (`cleanup`, `store_*`). */
      readonly identifier: string | null;
      readonly scope: string | null;
      readonly data: BramaEventDataMap[K];
    }
  : never;

/** Any brama event (a union discriminated by `type`). */
export type BramaEvent = BramaEventOf<BramaEventType>;

/** Every event type, in a stable order. */
export const EVENT_TYPES: readonly BramaEventType[] = Object.freeze([
  'registration',
  'connection_unregistered',
  'connection_removed',
  'success',
  'failure',
  'state_change',
  'circuit_opened',
  'circuit_half_opened',
  'circuit_closed',
  'circuit_reset',
  'cleanup',
  'store_degraded',
  'store_recovered',
]);

/**
 * Which events a subscriber receives; every key is optional and they are ANDed. With `events`,
 * `K` is those types, and the handler and `filter` see only their events.
 * @example { events: ['circuit_opened', 'circuit_closed'], scope: 'billing' }
 */
export interface EventFilter<K extends BramaEventType = BramaEventType> {
  /** Only these types. */
  events?: readonly K[] | undefined;
  /** Only events of this connection identifier. */
  identifier?: string | undefined;
  /** Only events of connections in this scope (`null`: connections without a scope). */
  scope?: string | null | undefined;
  /** Only events for which this predicate returns true. */
  filter?: ((event: BramaEventOf<K>) => boolean) | undefined;
}

/**
 * A listener for brama events (of the types `K`; by default, of every type). It may be async: a returned promise that rejects is reported to
 * `onListenerError` like a throw.
 */
export type EventHandler<K extends BramaEventType = BramaEventType> = (
  event: BramaEventOf<K>,
) => void;

/** Handle returned by `subscribe`. */
export interface Subscription {
  /** Stops delivery to this listener (idempotent). */
  unsubscribe(): void;
}

/** Called when a listener throws or its promise rejects; by default a process warning is emitted. */
export type ListenerErrorHandler = (error: unknown, event: BramaEvent) => void;
