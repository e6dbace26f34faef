/**
 * Background upkeep of the Redis store's views, on one unref'd timer that runs only while there
 * is something to do:
 * - **verify**: an announcement changed a view's state; read the connection back shortly after
 *   (unless an answer to this process's own command confirmed it meanwhile), so a forged or stale
 *   announcement holds the view for a fraction of a second at most. The short wait lets the
 *   announcements of changes right after it arrive first, so their events keep their cause;
 *   a read that overtook them would report the change as a `'sync'`;
 * - **refresh**: a report of this process changed counters without an announcement (reports
 *   announce at most every 250 ms); announce the connection once the interval has passed, so
 *   every view's totals follow Redis within the interval whatever the traffic;
 * - **repair**: a connection works on local state because Redis holds data for it that this
 *   version cannot use (retried every few seconds, until an operator fixes or deletes it) or,
 *   in a cluster, because its node does not answer (retried every `recoveryInterval`); a repair
 *   replays what waited and syncs it, as a reconciliation does for the whole store.
 */
import { reasonText } from '../../core/record.js';
import { connectionName } from '../../core/arguments.js';
import type { StoreContext } from './context.js';
import type { Entry } from './view.js';

/** How often unannounced counters are announced (ms); also the announce interval of reports. */
export const REFRESH_MS = 250;
/** How long after an announced state change its read-back goes out (ms). */
const VERIFY_MS = 100;
/** How often a connection with data brama cannot use is tried again (ms). */
const REPAIR_MS = 5000;

/** The upkeep of one store. */
export class Upkeep {
  private readonly verifying = new Set<Entry>();
  private readonly dirty = new Set<Entry>();
  /** Connections on local state, and when to try each again (performance.now()). */
  private readonly repairs = new Map<Entry, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private due = Infinity;

  constructor(private readonly core: StoreContext) {}

  /** Reads the connection back soon. */
  verify(entry: Entry): void {
    entry.verify = true;
    this.verifying.add(entry);
    this.schedule(VERIFY_MS);
  }

  /** Announces the connection's counters within the refresh interval. */
  refresh(entry: Entry): void {
    entry.dirty = true;
    this.dirty.add(entry);
    this.schedule(REFRESH_MS);
  }

  /** Handles the connection locally and retries it every few seconds; warns once. */
  broke(entry: Entry, error: unknown): void {
    if (entry.local !== 'broken') {
      const { identifier, scope } = entry.record;
      process.emitWarning(
        `brama: Redis holds data for connection ${connectionName(identifier, scope)} that brama cannot use (${reasonText(error) ?? 'unknown error'}); it is handled on this process's local state until the data is fixed or deleted`,
        'BramaWarning',
      );
    }
    entry.local = 'broken';
    this.repairLater(entry, REPAIR_MS);
  }

  /** In a cluster, the connection's node does not answer: local state until it does. */
  unreachable(entry: Entry): void {
    if (entry.local === 'broken') return; // already local, retried anyway
    entry.local = 'unreachable';
    this.repairLater(entry, this.core.settings.recoveryInterval);
  }

  private repairLater(entry: Entry, ms: number): void {
    this.repairs.set(entry, performance.now() + ms);
    this.schedule(ms);
  }

  /** The entry left the registry. */
  forget(entry: Entry): void {
    this.verifying.delete(entry);
    this.dirty.delete(entry);
    this.repairs.delete(entry);
  }

  /** Stops the timer. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.due = Infinity;
  }

  private schedule(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer !== null && this.due <= at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    this.due = Infinity;
    const core = this.core;
    if (core.online) {
      for (const entry of this.verifying) {
        if (entry.verifying) continue;
        this.verifying.delete(entry);
        entry.verify = false;
        // An answer to this process's own command has confirmed what the view holds.
        if (entry.trustedBorn === entry.born && entry.trustedVersion >= entry.version) continue;
        entry.verifying = true;
        void core.send(
          (s) => s.read(entry.record),
          (reply, sentEpoch) => {
            entry.verifying = false;
            if (reply.found) core.ingest(entry, reply, 'sync', null, sentEpoch);
            else if (core.current(entry)) void core.sync(entry);
          },
          () => (entry.verifying = false),
          entry,
        );
      }
      for (const entry of this.dirty) {
        this.dirty.delete(entry);
        entry.dirty = false;
        void core.send(
          (s) => s.refresh(entry.record),
          (reply, sentEpoch) => {
            if (reply.found) core.ingest(entry, reply, 'sync', null, sentEpoch);
          },
          undefined,
          entry,
        );
      }
      // A repair that succeeds clears `local`; one that fails marks it again (silently).
      const now = performance.now();
      for (const [entry, at] of this.repairs) {
        if (at > now) continue;
        this.repairs.delete(entry);
        if (entry.local !== null) void core.repair(entry);
      }
    }
    if (this.verifying.size > 0) this.schedule(VERIFY_MS);
    else if (this.dirty.size > 0) this.schedule(REFRESH_MS);
    else if (this.repairs.size > 0) {
      let next = Infinity;
      for (const at of this.repairs.values()) if (at < next) next = at;
      // While the store is degraded, its own recovery comes first: look again later.
      const wait = core.online ? next - performance.now() : core.settings.recoveryInterval;
      this.schedule(Math.max(0, wait));
    }
  }
}
