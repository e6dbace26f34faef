/**
 * Half-open trial leases of the Redis store. `isAvailable` cannot wait for Redis, so a process
 * leases trial slots ahead of its callers when its view half-opens (`acquire_trial`, one
 * request at a time per connection) and hands one to each admitted call. A call that takes a
 * lease makes it lapse `probeTimeout` after its admission (`touch_trial`); a lease nobody takes
 * goes back after `min(probeTimeout, 1 s)`. At most `halfOpenProbes` leases exist fleet-wide.
 */
import type { Entry, Lease } from './view.js';
import type { StoreContext } from './context.js';

/** An unused lease goes back to the fleet after this long (capped by probeTimeout). */
const LEASE_HOLD_MS = 1000;
/** A refused lease request is retried after at most this long (sooner on a state change). */
const REFUSED_BACKOFF_MS = 50;
/** After Redis answered "no such connection" more than once, requests back off up to this. */
const MISSING_BACKOFF_MAX_MS = 1000;

/** The lease bookkeeping of one store. */
export class Leases {
  private seq = 0;

  constructor(private readonly core: StoreContext) {}

  /**
   * A call while the view is half-open: hands it a leased slot (`true`), or asks Redis for one
   * for a later call (`false`).
   */
  admit(entry: Entry, now: number): boolean {
    const generation = entry.record.circuit.generation;
    for (let lease = entry.free.shift(); lease !== undefined; lease = entry.free.shift()) {
      if (lease.generation !== generation) continue; // dropped in Redis by the transition
      if (lease.handUntil <= now) {
        this.release(entry, lease);
        continue;
      }
      entry.active.push(lease);
      this.touch(entry, lease);
      return true;
    }
    this.acquire(entry);
    return false;
  }

  /** Whether this process holds a lease it could hand to a call now (nothing is taken). */
  holds(entry: Entry, now: number): boolean {
    const generation = entry.record.circuit.generation;
    return entry.free.some((lease) => lease.generation === generation && lease.handUntil > now);
  }

  /**
   * The lease a report carries: while the view is half-open, the oldest one handed out, even
   * from an earlier half-open period (its generation then fences the late result: counted,
   * but it cannot decide the new period). In any other state no lease: the outcome applies as
   * with the memory store (a trial left unreported must not fence later genuine reports).
   */
  take(entry: Entry): Lease | undefined {
    if (entry.record.circuit.state !== 'half_open') {
      entry.active.length = 0;
      return undefined;
    }
    return entry.active.shift();
  }

  /** The view's state changed: unused leases of the old state are void (Redis dropped them). */
  reset(entry: Entry): void {
    if (entry.record.circuit.state !== 'half_open') entry.free.length = 0;
    entry.retryAt = 0;
    entry.misses = 0;
  }

  /** The entry left the registry. */
  drop(entry: Entry): void {
    if (entry.hold !== null) clearTimeout(entry.hold);
    entry.hold = null;
  }

  /**
   * Requests one more lease in the background (at most one request per connection in flight),
   * until this process holds `halfOpenProbes` or Redis refuses (the fleet holds them all).
   */
  acquire(entry: Entry): void {
    const core = this.core;
    if (entry.acquiring || !core.online || entry.local !== null) return;
    const clock = core.host.clock;
    // Refused: the fleet holds every slot until the earliest lease lapses (or a trial reports,
    // which changes the state and clears this).
    if (entry.retryAt > clock.now()) return;
    const { record } = entry;
    const settings = core.host.settingsOf(record);
    const hold = Math.min(settings.probeTimeout, LEASE_HOLD_MS);
    const token = `${core.link.source}:${++this.seq}`;
    entry.acquiring = true;
    void core.send(
      (s) => s.acquireTrial(record, settings, token, hold),
      (reply, sentEpoch) => {
        entry.acquiring = false;
        if (!reply.found) return this.missing(entry);
        entry.misses = 0;
        core.ingest(entry, reply, 'sync', null, sentEpoch);
        if (!reply.flag) {
          const wait = Math.min(reply.retryAfter, REFUSED_BACKOFF_MS);
          if (record.circuit.state === 'half_open') entry.retryAt = clock.now() + wait;
          return;
        }
        const granted = reply.connection.circuit;
        if (granted.state !== 'half_open') return; // admitted without a lease (closed)
        const lease: Lease = {
          token,
          generation: granted.generation,
          handUntil: clock.now() + hold,
        };
        if (record.circuit.state !== 'half_open' || !core.current(entry)) {
          this.release(entry, lease);
          return;
        }
        entry.free.push(lease);
        this.holdLeases(entry, hold);
        if (entry.free.length + entry.active.length < settings.halfOpenProbes) this.acquire(entry);
      },
      () => {
        entry.acquiring = false;
      },
      entry,
    );
  }

  /**
   * Redis does not hold the connection (flushed, evicted, expired): rebuild it from the view
   * and ask again; when that keeps happening, back off instead of asking on every call.
   */
  private missing(entry: Entry): void {
    if (!this.core.current(entry)) return;
    entry.misses++;
    if (entry.misses > 1) {
      const wait = Math.min(REFUSED_BACKOFF_MS * 2 ** (entry.misses - 1), MISSING_BACKOFF_MAX_MS);
      entry.retryAt = this.core.host.clock.now() + wait;
    }
    void this.core.sync(entry, () => this.acquire(entry));
  }

  /** A call took the lease: it lapses probeTimeout from now, not from when it was leased. */
  private touch(entry: Entry, lease: Lease): void {
    const probeTimeout = this.core.host.settingsOf(entry.record).probeTimeout;
    void this.core.send(
      (s) => s.touchTrial(entry.record, lease.token, probeTimeout),
      () => {},
      undefined,
      entry,
    );
  }

  /** Gives a lease back to the fleet. */
  private release(entry: Entry, lease: Lease): void {
    const core = this.core;
    if (!core.online) return; // it lapses in Redis by itself
    void core.send(
      (s) =>
        s.report(
          entry.record,
          core.host.settingsOf(entry.record),
          'ignore',
          null,
          lease.token,
          lease.generation,
        ),
      () => {},
      undefined,
      entry,
    );
  }

  /** Gives unused leases back after `ms`, so an idle process does not block the fleet's probes. */
  private holdLeases(entry: Entry, ms: number): void {
    if (entry.hold !== null) return;
    entry.hold = setTimeout(() => {
      entry.hold = null;
      for (const lease of entry.free.splice(0)) this.release(entry, lease);
    }, ms);
    entry.hold.unref();
  }
}
