/**
 * The registry's side of `brama/metrics`: while at least one exporter is attached, the registry
 * counts every call, report and transition on the connection's {@link CallMeter}, and hands the
 * durations of wrapped calls to the exporters that record them as they happen (OpenTelemetry's
 * histogram). With none attached, `Registry.metering` is `null` and each hook costs one
 * comparison.
 */
import { METERED_OUTCOMES, meterOf, type MeteredOutcome } from './core/call-meter.js';
import type { ConnectionRecord } from './core/record.js';
import type { MeterHook } from './internals.js';
import type { Registry } from './registry.js';

/** Told the duration (in seconds) of each timed wrapped call while metering. Must not throw. */
export type DurationListener = (
  record: ConnectionRecord,
  outcome: MeteredOutcome,
  seconds: number,
) => void;

/** The metering state of a registry with at least one exporter attached. */
export class Metering {
  /** How many exporters are attached. */
  attached = 0;
  /** The duration listeners of the attached exporters (most have none). */
  listeners: readonly DurationListener[] = [];

  /** Counts one untimed call or report (`outcome`: an index of `OUTCOME_INDEX`). */
  count(record: ConnectionRecord, outcome: number): void {
    const meter = record.meter ?? meterOf(record);
    (meter.calls[outcome] as number)++;
  }

  /**
   * Counts one call (`outcome`: an index of `OUTCOME_INDEX`) that started at `started` (`NaN`:
   * not timed) and ended at `now`.
   */
  call(record: ConnectionRecord, outcome: number, started: number, now: number): void {
    const ms = started === started ? Math.max(0, now - started) : NaN;
    meterOf(record).count(outcome, ms);
    if (ms === ms && this.listeners.length !== 0) this.tell(record, outcome, ms / 1000);
  }

  private tell(record: ConnectionRecord, outcome: number, seconds: number): void {
    const name = METERED_OUTCOMES[outcome] as MeteredOutcome;
    for (const listener of this.listeners) {
      try {
        listener(record, name, seconds);
      } catch {
        // An exporter's failure must never reach the caller's call.
      }
    }
  }
}

/** What holds a registry's metering state (the registry). */
export interface MeteringHost {
  metering: Metering | null;
}

/**
 * Attaches one exporter: metering starts with the first. Returns the detach function
 * (idempotent); metering stops when the last exporter detaches (the counts stay on the records,
 * so an exporter attached later continues them).
 */
export function attachExporter(host: MeteringHost, listener: DurationListener | null): () => void {
  const metering = (host.metering ??= new Metering());
  metering.attached++;
  if (listener !== null) metering.listeners = [...metering.listeners, listener];
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    if (listener !== null) metering.listeners = metering.listeners.filter((l) => l !== listener);
    if (--metering.attached === 0 && host.metering === metering) host.metering = null;
  };
}

/** The hook the registry's internals (`attachMeter`) hand an exporter. */
export function meterHook(registry: Registry, onDuration: DurationListener | null): MeterHook {
  const detach = attachExporter(registry, onDuration);
  return {
    records: () => {
      if (registry.closing !== null) return [];
      const { store } = registry;
      const now = registry.clock.now();
      const records = [...store.records()];
      for (const record of records) {
        try {
          store.settle(record, now);
        } catch {
          // A scrape shows what the record says; the store reports its own trouble.
        }
      }
      return records;
    },
    get size() {
      return registry.closing !== null ? 0 : registry.store.size;
    },
    get storeDegraded() {
      return registry.storeDegraded;
    },
    detach,
  };
}
