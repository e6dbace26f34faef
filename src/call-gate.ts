import { BramaError } from './core/errors.js';
import { connectionName } from './core/arguments.js';
import type { CircuitOpenError } from './core/circuit-open-error.js';
import type { ConnectionRecord } from './core/record.js';
import { refusal } from './core/refusal.js';
import { retryAfter } from './core/transitions.js';
import { closedError, type ConnectionOptions } from './method-options.js';
import type { Registry } from './registry.js';
import type { CircuitSettings } from './core/settings.js';
import { NO_DETAILS, type Outcome } from './stores/store.js';
import type { CallEnd, CallGate, RunSite } from './wrap/gate.js';
import { OUTCOME_INDEX } from './core/call-meter.js';

/**
 * A registry's gate for wrapped calls (`run`, `wrap`, the decorator): admission on entry, with
 * registration on first use, and the outcome on exit.
 */
export class RegistryGate implements CallGate {
  readonly clock: Registry['clock'];
  lastRun: RunSite | null = null;

  constructor(
    private readonly registry: Registry,
    /** Registers a connection met for the first time, with the call's options. */
    private readonly register: (identifier: string, opts: ConnectionOptions) => void,
  ) {
    this.clock = registry.clock;
  }

  enter(
    identifier: string,
    scope: string | null,
    registration: ConnectionOptions,
    known: ConnectionRecord | null,
  ): ConnectionRecord | CircuitOpenError {
    const registry = this.registry;
    if (registry.closing !== null) throw closedError();
    const store = registry.store;
    // A record stays its connection's until the registry removes it, and then it is flagged.
    let record = known !== null && !known.removed ? known : store.get(identifier, scope);
    if (record === undefined) {
      this.register(identifier, registration);
      record = store.get(identifier, scope);
      if (record === undefined)
        throw new BramaError(
          'BRAMA_NOT_FOUND',
          `Connection ${connectionName(identifier, scope)} vanished`,
        );
    }
    if (store.admit(record)) return record;
    if (registry.metering !== null) registry.metering.count(record, OUTCOME_INDEX.rejected);
    const wait = retryAfter(record.circuit, registry.settingsOf(record), this.clock.now());
    return refusal(identifier, scope, record.circuit, wait);
  }

  find(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.registry.store.get(identifier, scope);
  }

  admitsClosed(record: ConnectionRecord): boolean {
    const registry = this.registry;
    return (
      // Metered calls take the general path too: it times them.
      registry.metering === null &&
      registry.closing === null &&
      !record.removed &&
      registry.store.admit(record) &&
      // A timed call takes the general path, which reads the clock before and after it.
      !timed(registry.settingsOf(record))
    );
  }

  startTime(record: ConnectionRecord): number {
    const registry = this.registry;
    return registry.metering !== null || timed(registry.settingsOf(record))
      ? this.clock.now()
      : NaN;
  }

  leave(
    record: ConnectionRecord,
    end: CallEnd,
    reason: unknown,
    trial: boolean,
    started = NaN,
    retryAfterMs: number | null = null,
  ): void {
    const registry = this.registry;
    if (registry.closing !== null || record.removed) return; // removed: unregistered meanwhile
    const outcome: Outcome = end === 'timeout' ? 'failure' : end === 'aborted' ? 'ignore' : end;
    const metering = end === 'aborted' ? null : registry.metering;
    if (outcome === 'ignore' && !trial) {
      if (metering !== null) metering.call(record, IGNORED, started, this.clock.now());
      return;
    }
    const timedCall = !Number.isNaN(started);
    const now = outcome === 'success' && !timedCall ? this.successTime(record) : this.clock.now();
    if (metering !== null) metering.call(record, METERED[end as Outcome | 'timeout'], started, now);
    const details =
      timedCall || retryAfterMs !== null
        ? { durationMs: timedCall ? Math.max(0, now - started) : undefined, retryAfterMs }
        : NO_DETAILS;
    try {
      registry.store.report(record, outcome, now, reason, details);
    } catch {
      // A store failure must not turn the caller's result into an error.
    }
  }

  /**
   * The time of a success: on a closed circuit, where it only stamps `lastSuccessTime`, the
   * clock's reading of this event-loop turn (see `TurnClock`), unless a `success` event will
   * show it; otherwise the exact time.
   */
  successTime(record: ConnectionRecord): number {
    const bus = this.registry.bus;
    return record.circuit.state === 'closed' && (!bus.active || !bus.wants('success'))
      ? this.clock.recent()
      : this.clock.now();
  }
}

const IGNORED = OUTCOME_INDEX.ignored;
/** The metered outcome of each end of a call (an abort is not metered). */
const METERED: Readonly<Record<Outcome | 'timeout', number>> = {
  success: OUTCOME_INDEX.success,
  failure: OUTCOME_INDEX.failure,
  ignore: IGNORED,
  timeout: OUTCOME_INDEX.timeout,
};

/** Whether calls under `s` are timed: their duration decides whether they were slow. */
function timed(s: CircuitSettings): boolean {
  return s.slowCallMs !== null && s.tripPolicy === 'rate';
}
