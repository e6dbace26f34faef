/**
 * The recent outcomes of one connection, for the `'rate'` trip policy: how many there are, how
 * many failed, how many were slow. Bounded memory whatever the traffic, constant time per
 * outcome: a ring of the last N outcomes (`{ calls: N }`, one byte each), or ten time buckets
 * (`{ ms: T }`, each T/10 wide: an outcome leaves between 0.9 T and T after it was recorded).
 * Time comes in as an argument; nothing here reads a clock.
 */
import type { CircuitSettings, OutcomeWindowSpec } from './settings.js';

/** Counts of the outcomes in a window. */
export interface WindowCounts {
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
}

/** A window of recent outcomes. */
export interface OutcomeWindow extends WindowCounts {
  /** The window's shape, to tell when a connection's settings changed it. */
  readonly spec: OutcomeWindowSpec;
  /**
   * Counts copied from elsewhere (a shared store's view): they show in the status, but an
   * outcome applied here starts a window of its own.
   */
  readonly snapshot?: boolean;
  /**
   * The settings under which the window as it is now was last checked and did not trip, once it
   * held at least `minimumCalls` (`null`: not known). A success that is not slow cannot raise
   * either rate, so the next such success need not check; a time window forgets it whenever
   * outcomes leave it (their leaving can raise a rate). A snapshot does not keep it.
   * @internal
   */
  quiet?: CircuitSettings | null;
  /** Records one outcome at `now`. */
  add(failed: boolean, slow: boolean, now: number): void;
  /** Forgets what has left a time window by `now` (a count window keeps everything). */
  advance(now: number): void;
  /** Empties the window (the circuit closed). */
  clear(): void;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes. */
class CountWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slow = 0;
  quiet: CircuitSettings | null = null;
  private readonly ring: Uint8Array;
  private next = 0;

  constructor(readonly spec: { readonly calls: number }) {
    this.ring = new Uint8Array(spec.calls);
  }

  add(failed: boolean, slow: boolean): void {
    const ring = this.ring;
    if (this.calls === ring.length) {
      const old = ring[this.next]!;
      if (old & FAILED) this.failures--;
      if (old & SLOW) this.slow--;
    } else {
      this.calls++;
    }
    ring[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.next = this.next + 1 === ring.length ? 0 : this.next + 1;
  }

  advance(): void {
    // Outcomes leave a count window only when newer ones push them out.
  }

  clear(): void {
    this.calls = this.failures = this.slow = 0;
    this.next = 0;
    this.quiet = null;
  }
}

/** Buckets of a time window. */
const BUCKETS = 10;

/** The outcomes of the last `ms` milliseconds, in ten buckets. */
class TimeWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slow = 0;
  quiet: CircuitSettings | null = null;
  private readonly width: number;
  /** The newest bucket index `advance` has seen: nothing more leaves until time moves past it. */
  private current = Number.NEGATIVE_INFINITY;
  /** The slot of bucket `current` in `b`. */
  private slot = 0;
  /**
   * Per bucket i: its index (time / width; -1: empty) at [i], its calls at [10 + i], failures
   * at [20 + i] and slow calls at [30 + i] (one array: each typed array costs ~100 bytes).
   */
  private readonly b = new Float64Array(4 * BUCKETS).fill(-1, 0, BUCKETS);

  constructor(readonly spec: { readonly ms: number }) {
    this.width = spec.ms / BUCKETS;
  }

  add(failed: boolean, slow: boolean, now: number): void {
    const bucket = Math.floor(now / this.width);
    if (bucket > this.current) this.moveTo(bucket);
    // Most outcomes land in the newest bucket, whose slot is known (no modulo of a large index).
    const i = bucket === this.current ? this.slot : slotOf(bucket);
    const b = this.b;
    if (b[i] !== bucket) {
      this.drop(i);
      b[i] = bucket;
    }
    b[BUCKETS + i]!++;
    this.calls++;
    if (failed) {
      b[2 * BUCKETS + i]!++;
      this.failures++;
    }
    if (slow) {
      b[3 * BUCKETS + i]!++;
      this.slow++;
    }
  }

  advance(now: number): void {
    const bucket = Math.floor(now / this.width);
    if (bucket > this.current) this.moveTo(bucket);
  }

  /** Time has entered bucket `current`: buckets older than the window's ten are emptied. */
  private moveTo(current: number): void {
    this.current = current;
    this.slot = slotOf(current);
    const oldest = current - (BUCKETS - 1);
    const b = this.b;
    for (let i = 0; i < BUCKETS; i++) {
      if (b[i]! >= 0 && b[i]! < oldest) this.drop(i);
    }
  }

  clear(): void {
    for (let i = 0; i < BUCKETS; i++) this.drop(i);
  }

  private drop(i: number): void {
    const b = this.b;
    if (b[BUCKETS + i] !== 0) this.quiet = null; // outcomes leave: a rate may rise
    this.calls -= b[BUCKETS + i]!;
    this.failures -= b[2 * BUCKETS + i]!;
    this.slow -= b[3 * BUCKETS + i]!;
    b[BUCKETS + i] = b[2 * BUCKETS + i] = b[3 * BUCKETS + i] = 0;
    b[i] = -1;
  }
}

/** Where bucket `bucket` (time / width) lives among the ten. */
function slotOf(bucket: number): number {
  return ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
}

/** A new, empty window of the given shape. */
export function createWindow(spec: OutcomeWindowSpec): OutcomeWindow {
  return 'calls' in spec ? new CountWindow(spec) : new TimeWindow(spec);
}

/** Whether a window has the given shape. */
export function hasShape(window: OutcomeWindow, spec: OutcomeWindowSpec): boolean {
  const own = window.spec;
  return 'calls' in spec
    ? 'calls' in own && own.calls === spec.calls
    : 'ms' in own && own.ms === spec.ms;
}

/** Counts copied from a shared store, for the status of a view (see `snapshot`). */
class SnapshotWindow implements OutcomeWindow {
  readonly snapshot = true;

  constructor(
    readonly spec: OutcomeWindowSpec,
    readonly calls: number,
    readonly failures: number,
    readonly slow: number,
  ) {}

  add(): void {
    // Never used: a store applying outcomes here replaces a snapshot first (outcome.ts).
  }

  advance(): void {
    // The counts are as of the moment they were copied.
  }

  clear(): void {
    // A snapshot is replaced, never cleared.
  }
}

/** A window that shows `counts` (taken elsewhere) under `spec`. */
export function snapshotWindow(spec: OutcomeWindowSpec, counts: WindowCounts): OutcomeWindow {
  return new SnapshotWindow(spec, counts.calls, counts.failures, counts.slow);
}
