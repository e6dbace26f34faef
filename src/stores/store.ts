/**
 * The store boundary. A store owns the records of a registry (its *local view*) and applies
 * every change to them. Brama (the facade) validates input, asks the store to act, and turns
 * the changes the store reports back through {@link StoreHost.committed} into events.
 *
 * Every method is synchronous on the local view. A store whose state lives elsewhere (Redis,
 * fleet mode) applies the same transitions there, atomically, and feeds the authoritative result
 * back into the local view later, through the same host callbacks, with origin `'remote'` when
 * another process caused it. That keeps `isAvailable` synchronous and free of I/O.
 * See docs/architecture.md.
 */
import type { Clock } from '../core/clock.js';
import type { ConnectionRecord } from '../core/record.js';
import type { CircuitSettings } from '../core/settings.js';
import type { CircuitState } from '../core/state.js';
import type { ChangeOrigin } from '../events/types.js';

/** A reported result: counted as a success or a failure, or ignored (frees a trial slot). */
export type Outcome = 'success' | 'failure' | 'ignore';

/** What a report may say besides its outcome. */
export interface OutcomeDetails {
  /** How long the call took (ms); a slow call counts for the `'rate'` policy's slow-call rate. */
  readonly durationMs?: number | undefined;
  /** A failure that opens the circuit at once, for exactly this long (result-driven opening). */
  readonly retryAfterMs?: number | null | undefined;
}

/** No details: the common case. */
export const NO_DETAILS: OutcomeDetails = Object.freeze({});

/** An operator's (or the testing kit's) action on a circuit. */
export type ManualAction =
  'open' | 'close' | 'reset' | 'force_closed' | 'force_open' | 'force_half_open';

/**
 * Why a store changed a record: an outcome, a manual action, the lazy end of an open period,
 * new options from another process (`'configure'`), or state loaded from a shared store that
 * this process did not see happen (`'sync'`: adoption at registration, reconciliation).
 */
export type ChangeKind = Outcome | ManualAction | 'expire' | 'configure' | 'sync';

/** Why a record leaves the registry: `unregister`, or the inactivity sweep. */
export type RemovalCause = 'unregister' | 'cleanup';

/** What the registry gives a store when it attaches. */
export interface StoreHost {
  /** The registry's clock; stores read time only through it. */
  readonly clock: Clock;
  /** The registry's source of randomness in [0, 1) (ramp-up admissions). */
  readonly random: () => number;
  /** The effective settings of a record (its own, then global, then defaults). */
  settingsOf(record: ConnectionRecord): CircuitSettings;
  /**
   * Called after the store committed a change to `record` (its circuit is already the new one):
   * `from` is the state before, `reason` what the report or action carried.
   */
  committed(
    record: ConnectionRecord,
    kind: ChangeKind,
    from: CircuitState,
    reason: unknown,
    origin: ChangeOrigin,
  ): void;
  /** A shared store lost (`true`) or regained (`false`) its backend. */
  degraded(isDegraded: boolean, detail: unknown): void;
}

/** Where connection state lives. The default is {@link MemoryStore}. */
export interface ConnectionStore {
  /** Binds the store to one registry; called once, by the `Brama` constructor. */
  attach(host: StoreHost): void;
  /** The record of a connection, if registered. */
  get(identifier: string, scope: string | null): ConnectionRecord | undefined;
  /** Adds a new record (the caller checked it is absent). */
  insert(record: ConnectionRecord): void;
  /**
   * Removes a record; returns whether it was there. A shared store deletes the shared state on
   * `'unregister'` only: an idle connection here may be busy in another process.
   */
  remove(record: ConnectionRecord, cause: RemovalCause): boolean;
  /** Every record (iteration tolerates removal of the current one). */
  records(): IterableIterator<ConnectionRecord>;
  /** The number of records. */
  readonly size: number;
  /** Applies the lazy open → half-open transition if the open period has elapsed. */
  settle(record: ConnectionRecord, now: number): void;
  /**
   * May a call go ahead now? Records a half-open trial when it admits one. Reads the clock only
   * when the circuit is not closed, so the common case costs a lookup and a comparison.
   */
  admit(record: ConnectionRecord): boolean;
  /**
   * Would {@link admit} admit a call now? Answers without taking a half-open trial slot (a
   * health check must not starve real calls). Optional: without it, the registry applies the
   * core's rules to the record.
   */
  wouldAdmit?(record: ConnectionRecord): boolean;
  /** Applies a reported outcome (with its duration and a retry-after, when known). */
  report(
    record: ConnectionRecord,
    outcome: Outcome,
    now: number,
    reason: unknown,
    details?: OutcomeDetails,
  ): void;
  /** Applies a manual action; `expiry` (ms) only for `'open'`. */
  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void;
  /** The record's own options or metadata changed (a shared store propagates them). */
  reconfigured(record: ConnectionRecord): void;
  /** Releases resources; the store is not used afterwards. */
  close(): Promise<void>;
  /** A shared store: whether it currently works on local state (its backend is unreachable). */
  readonly degraded?: boolean;
}
