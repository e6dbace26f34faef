import type { CircuitOpenError } from '../core/circuit-open-error.js';
import type { Clock } from '../core/clock.js';
import type { ConnectionRecord } from '../core/record.js';
import type { ConnectionOptions } from '../method-options.js';
import type { Outcome } from '../stores/store.js';

/**
 * How an admitted call ended: an outcome to report, or one of the ends the metrics tell apart
 * (`'timeout'`: reported as a failure; `'aborted'` through the caller's signal: reported as
 * ignored, not metered).
 */
export type CallEnd = Outcome | 'timeout' | 'aborted';

/** The callbacks that settle `run` calls on one record with one set of options. */
export interface RunSite {
  readonly call: unknown;
  readonly record: ConnectionRecord;
  readonly onFulfilled: (value: unknown) => unknown;
  readonly onRejected: (error: unknown) => PromiseLike<unknown>;
}

/** What a registry offers wrapped calls: admission on entry and the outcome on exit. */
export interface CallGate {
  readonly clock: Clock;
  /** The latest `run` call's settling callbacks, reused by the next call on the same terms. */
  lastRun: RunSite | null;
  /**
   * Admits a call (registering the connection with `registration` on first use): the record
   * when admitted, the refusal error otherwise. Throws on bad input or a closed registry.
   * `known`: the record this call site was admitted with before, used unless it was removed.
   */
  enter(
    identifier: string,
    scope: string | null,
    registration: ConnectionOptions,
    known: ConnectionRecord | null,
  ): ConnectionRecord | CircuitOpenError;
  /** The record of a registered connection (no registration, no admission). */
  find(identifier: string, scope: string | null): ConnectionRecord | undefined;
  /**
   * Admission of a call on a closed circuit whose record the caller already holds: whether the
   * registry is open, the record still registered and the store admits it. Has no effect (a
   * closed circuit's admission changes nothing), so a `false` may be followed by `enter`.
   */
  admitsClosed(record: ConnectionRecord): boolean;
  /**
   * When a call on `record` starts, if its duration matters (a slow-call threshold under the
   * `'rate'` policy, or metrics attached); `NaN` otherwise, so that most calls read no clock.
   */
  startTime(record: ConnectionRecord): number;
  /**
   * Reports how an admitted call ended. `trial`: it was admitted as a half-open trial; `started`:
   * its {@link startTime}; `retryAfterMs`: a pause the result asked for (result-driven opening).
   * Never throws; does nothing when the connection was unregistered meanwhile or the registry
   * closed.
   */
  leave(
    record: ConnectionRecord,
    end: CallEnd,
    reason: unknown,
    trial: boolean,
    started?: number,
    retryAfterMs?: number | null,
  ): void;
}
