/**
 * Whether the Redis store can use Redis right now: degraded mode and the way back out of it.
 * Knows nothing about clients or circuits; the link feeds it command progress and failures,
 * and it tells its owner when to degrade, when to probe, and when to resync.
 *
 * `store_degraded` and `store_recovered` strictly alternate: a recovery attempt that fails
 * (Redis answers PING but not the resync: out of memory, loading...) stays in the same
 * degraded period, silently, until a resync succeeds.
 */
import { BramaError } from '../../core/errors.js';

/** What the health tracker asks of its owner. */
export interface HealthEvents {
  /** A degraded period started (once per period); `error` says why. */
  degraded(error: BramaError): void;
  /**
   * One recovery attempt: resolves `true` when Redis answered a probe in time (then the owner
   * resyncs, see {@link resync}), `false` when it did not. Never rejects.
   */
  probe(): Promise<boolean>;
  /** Replays and reconciles after Redis answered again; resolves when done. Never rejects. */
  resync(): Promise<void>;
  /** The degraded period ended: a resync completed; `downtimeMs` since it started. */
  recovered(downtimeMs: number): void;
}

/** Options of {@link Health}. */
export interface HealthOptions {
  /** How often the owner calls {@link Health.watch} (ms). */
  readonly tickMs: number;
  /** A monotonic clock in ms. @default performance.now */
  readonly clock?: () => number;
}

/**
 * Degraded mode of one store: the watchdog, the recovery loop, and their events.
 *
 * **The watchdog counts only time this process could have heard Redis.** A command in flight
 * with no answer for `commandTimeout` ms means Redis is unresponsive, unless the process's own
 * event loop was busy meanwhile: answers that arrived while it was blocked wait in the socket,
 * and timers run before sockets are read. So a watchdog tick that runs late does not count the
 * time it was late, and judges nothing itself when it ran more than a tick late (the next tick,
 * after the socket was read, judges); two late ticks in a row judge, so that a process whose
 * loop is always busy still notices a Redis that stopped answering (on the time its loop was
 * free).
 */
export class Health {
  /** Whether commands are bypassed in favour of local state right now. */
  degraded = false;
  /** Whether `store_degraded` was emitted and `store_recovered` has not followed yet. */
  announced = false;
  private degradedAt = 0;
  /** Commands awaiting an answer; forgotten when a degraded period ends (they were given up). */
  private readonly inflight = new Set<number>();
  private nextCommand = 0;
  private progressAt = 0;
  private probe: ReturnType<typeof setTimeout> | null = null;
  private probing = false;
  private resyncing: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private closed = false;
  private readonly tickMs: number;
  private readonly now: () => number;
  /** When the watchdog last ran (or the store was set up), and whether it judged nothing then. */
  private watchedAt: number;
  private skipped = false;

  constructor(
    private readonly commandTimeout: number,
    private readonly recoveryInterval: number,
    private readonly events: HealthEvents,
    options: HealthOptions,
  ) {
    this.tickMs = options.tickMs;
    this.now = options.clock ?? (() => performance.now());
    this.watchedAt = this.now();
  }

  /** Marks a command sent; returns its id for {@link settled}. */
  begin(): number {
    if (this.inflight.size === 0) this.progressAt = this.now();
    const id = this.nextCommand++;
    this.inflight.add(id);
    return id;
  }

  /** A command was answered (or failed): Redis made progress. */
  settled(id: number): void {
    this.inflight.delete(id);
    this.progressAt = this.now();
  }

  /**
   * The watchdog, run every `tickMs` from the store's set-up: whether a command has been waiting longer than
   * `commandTimeout` with no progress, not counting time the event loop was blocked (see the
   * class comment).
   */
  watch(): boolean {
    const now = this.now();
    const late = Math.max(0, now - this.watchedAt - this.tickMs);
    this.watchedAt = now;
    this.progressAt = Math.min(now, this.progressAt + late);
    this.skipped = late > this.tickMs && !this.skipped;
    if (this.skipped) return false;
    return this.inflight.size > 0 && now - this.progressAt > this.commandTimeout;
  }

  /** Enters degraded mode (the event fires once per degraded period) and starts probing. */
  fail(error: BramaError): void {
    if (this.closed || this.degraded) return;
    this.degraded = true;
    for (const wake of this.waiters.splice(0)) wake();
    if (!this.announced) {
      this.announced = true;
      this.degradedAt = this.now();
      this.events.degraded(error);
    }
    this.scheduleProbe(this.recoveryInterval);
  }

  /** Probe now (e.g. the client reconnected) rather than at the next interval. */
  probeSoon(): void {
    if (!this.degraded || this.closed) return;
    if (this.probe !== null) clearTimeout(this.probe);
    this.probe = null;
    this.scheduleProbe(0);
  }

  /**
   * Reconciles without a degraded period (a re-established subscription may have missed
   * announcements); shares a resync already running.
   */
  resync(): Promise<void> {
    if (this.resyncing !== null) return this.resyncing;
    this.resyncing = this.events.resync().finally(() => (this.resyncing = null));
    return this.resyncing;
  }

  /** The resync running now, if any (so `flush()` can wait for it). */
  get pendingResync(): Promise<void> | null {
    return this.resyncing;
  }

  /**
   * A promise that resolves when the store is (or next becomes) degraded, or closes; `cancel`
   * forgets it, so waiting while healthy leaves nothing behind.
   */
  whenDegraded(): { readonly promise: Promise<void>; cancel(): void } {
    if (this.degraded || this.closed) return { promise: Promise.resolve(), cancel: () => {} };
    let wake: () => void = () => {};
    const promise = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.push(wake);
    const cancel = (): void => {
      const at = this.waiters.indexOf(wake);
      if (at >= 0) this.waiters.splice(at, 1);
    };
    return { promise, cancel };
  }

  /** Stops probing; wakes every waiter. */
  close(): void {
    this.closed = true;
    if (this.probe !== null) clearTimeout(this.probe);
    this.probe = null;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private scheduleProbe(ms: number): void {
    if (this.closed || this.probe !== null || this.probing) return;
    this.probe = setTimeout(() => {
      this.probe = null;
      void this.attempt();
    }, ms);
    this.probe.unref();
  }

  /** One recovery attempt: probe, then resync; recovered only when the resync held. */
  private async attempt(): Promise<void> {
    if (this.closed || !this.degraded || this.probing) return;
    this.probing = true;
    try {
      if (!(await this.events.probe()) || this.closed) return;
      this.degraded = false;
      this.inflight.clear(); // commands of the degraded period: answered late, or given up
      await this.resync();
      if (!this.degraded && !this.closed && this.announced) {
        this.announced = false;
        this.events.recovered(Math.round(this.now() - this.degradedAt));
      }
    } finally {
      this.probing = false;
      if (this.degraded) this.scheduleProbe(this.recoveryInterval);
    }
  }
}
