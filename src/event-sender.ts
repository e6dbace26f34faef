import type { Clock } from './core/clock.js';
import { storeUnavailable } from './core/errors.js';
import type { ConnectionRecord } from './core/record.js';
import type { CircuitState } from './core/state.js';
import type { ConnectionStatus } from './core/status.js';
import { emitChange } from './emit-change.js';
import type { EventBus } from './events/event-bus.js';
import type {
  BramaEvent,
  BramaEventDataMap,
  BramaEventType,
  ChangeOrigin,
} from './events/types.js';
import type { ChangeKind } from './stores/store.js';

/**
 * Sends a registry's events: the ones the facade raises itself (registration, removals,
 * cleanup), the changes a store committed, and the store's health. Builds an event (and the
 * status snapshot it carries) only when some subscriber wants its type.
 */
/** What the sender needs of its registry (the `Registry` itself). */
export interface EventSource {
  readonly bus: EventBus;
  readonly clock: Clock;
  snapshot(record: ConnectionRecord, now: number): ConnectionStatus;
}

export class EventSender {
  constructor(private readonly registry: EventSource) {}

  send<K extends BramaEventType>(
    type: K,
    record: ConnectionRecord | null,
    timestamp: number,
    data: BramaEventDataMap[K],
  ): void {
    const bus = this.registry.bus;
    if (!bus.wants(type)) return;
    bus.emit({
      type,
      timestamp,
      identifier: record?.identifier ?? null,
      scope: record?.scope ?? null,
      data,
    } as BramaEvent);
  }

  /** The events of one committed change (see `Registry.committed`). */
  committed(
    record: ConnectionRecord,
    kind: ChangeKind,
    from: CircuitState,
    reason: unknown,
    origin: ChangeOrigin,
  ): void {
    const { bus, clock } = this.registry;
    if (!bus.active) return;
    const now = clock.now();
    emitChange(bus, record, kind, from, reason, origin, now, () =>
      this.registry.snapshot(record, now),
    );
  }

  /** `store_degraded` / `store_recovered`. */
  storeHealth(isDegraded: boolean, detail: unknown): void {
    const now = this.registry.clock.now();
    if (isDegraded) {
      this.send('store_degraded', null, now, { error: storeUnavailable(detail) });
    } else {
      this.send('store_recovered', null, now, {
        downtimeMs: typeof detail === 'number' ? detail : 0,
      });
    }
  }
}
