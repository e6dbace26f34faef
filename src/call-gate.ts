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
import type { CallGate, RunSite } from './wrap/gate.js';

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
    const wait = retryAfter(record.circuit, registry.settingsOf(record), this.clock.now());
    return refusal(identifier, scope, record.circuit, wait);
  }

  find(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.registry.store.get(identifier, scope);
  }

  admitsClosed(record: ConnectionRecord): boolean {
    const registry = this.registry;
    return (
      registry.closing === null &&
      !record.removed &&
      registry.store.admit(record) &&
      // A timed call takes the general path, which reads the clock before and after it.
      !timed(registry.settingsOf(record))
    );
  }

  startTime(record: ConnectionRecord): number {
    return timed(this.registry.settingsOf(record)) ? this.clock.now() : NaN;
  }

  leave(
    record: ConnectionRecord,
    outcome: Outcome,
    reason: unknown,
    trial: boolean,
    started = NaN,
    retryAfterMs: number | null = null,
  ): void {
    const registry = this.registry;
    if (registry.closing !== null || record.removed) return; // removed: unregistered meanwhile
    if (outcome === 'ignore' && !trial) return;
    const timedCall = !Number.isNaN(started);
    const now = outcome === 'success' && !timedCall ? this.successTime(record) : this.clock.now();
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

/** Whether calls under `s` are timed: their duration decides whether they were slow. */
function timed(s: CircuitSettings): boolean {
  return s.slowCallMs !== null && s.tripPolicy === 'rate';
}
