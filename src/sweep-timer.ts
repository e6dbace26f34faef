import type { Registry } from './registry.js';

/**
 * The one background job: a single `unref()`'d interval per registry, so it never keeps the
 * process alive. Errors inside a sweep are swallowed (a sweep must never crash the process).
 */
export class SweepTimer {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly sweep: () => void) {}

  /** (Re)starts the interval; `0` stops it. */
  schedule(intervalMs: number): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch {
        // Listener errors are already isolated; anything else must not take the process down.
      }
    }, intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * One sweep: settles expired open circuits (so `circuit_half_opened` fires without traffic)
 * and removes connections without activity for `inactiveThreshold` ms. Returns how many it
 * removed.
 */
export function sweep(registry: Registry, inactiveThreshold: number): number {
  const { store, bus, events } = registry;
  const now = registry.clock.now();
  let removed = 0;
  for (const record of [...store.records()]) {
    store.settle(record, now);
    const idle = now - record.lastActivityAt;
    if (idle < inactiveThreshold || !store.remove(record, 'cleanup')) continue;
    record.removed = true;
    removed++;
    if (bus.wants('connection_removed')) {
      events.send('connection_removed', record, now, {
        status: registry.snapshot(record, now),
        inactiveForMs: idle,
      });
    }
  }
  events.send('cleanup', null, now, { removed });
  return removed;
}
