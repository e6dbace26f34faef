import type { CircuitOpenError } from '../core/circuit-open-error.js';
import type { Clock } from '../core/clock.js';
import type { ConnectionRecord } from '../core/record.js';
import type { ConnectionOptions } from '../method-options.js';
import type { Outcome } from '../stores/store.js';

/** What a registry offers wrapped calls: admission on entry and the outcome on exit. */
export interface CallGate {
  readonly clock: Clock;
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
  /**
   * Reports how an admitted call ended. `trial`: it was admitted as a half-open trial. Never
   * throws; does nothing when the connection was unregistered meanwhile or the registry closed.
   */
  leave(record: ConnectionRecord, outcome: Outcome, reason: unknown, trial: boolean): void;
}
