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
