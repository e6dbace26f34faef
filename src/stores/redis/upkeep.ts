/**
 * Background upkeep of the Redis store's views, on one unref'd timer that runs only while there
 * is something to do:
 * - **verify**: an announcement changed a view's state; read the connection back shortly after
 *   (unless an answer to this process's own command confirmed it meanwhile), so a forged or stale
 *   announcement holds the view for a fraction of a second at most. The short wait lets the
 *   announcements of changes right after it arrive first, so their events keep their cause;
 *   a read that overtook them would report the change as a `'sync'`;
 * - **refresh**: reports that move no state announce the connection's counters at most once per
 *   interval (250 ms) per connection, fleet-wide (scripts/report.ts). The first report left
 *   unannounced after an announcement is the trailing one: its process refreshes the connection
 *   half an interval after the announcement falls due, which announces whatever changed
 *   meanwhile; under steady traffic a report arriving after the due moment announces first,
 *   and the refresh is not sent. The other processes whose reports went unannounced refresh one
 *   interval later still, unless an announcement that covers their report arrived meanwhile
 *   (the usual case): a backstop for a trailing process that went away. Every view's counters
 *   follow Redis within 1.5 intervals of a report (375 ms) whatever the traffic;
 * - **repair**: a connection works on local state because Redis holds data for it that this
 *   version cannot use (retried every few seconds, until an operator fixes or deletes it) or,
 *   in a cluster, because its node does not answer (retried every `recoveryInterval`); a repair
 *   replays what waited and syncs it, as a reconciliation does for the whole store.
 */
import { reasonText } from '../../core/record.js';
import { connectionName } from '../../core/arguments.js';
import type { StoreContext } from './context.js';
import type { LeanReply } from './reply.js';
import type { Entry } from './view.js';

/** How often unannounced counters are announced (ms); also the announce interval of reports. */
export const REFRESH_MS = 250;
/**
 * How long after its announcement falls due the trailing report's process refreshes a
 * connection (ms): long enough for the next report under steady traffic to announce instead.
 */
const TRAILING_MS = REFRESH_MS / 2;
/** The shortest wait between two runs of the timer while refreshes are due (ms). */
const SWEEP_MS = 20;
/** How long after an announced state change its read-back goes out (ms). */
const VERIFY_MS = 100;
/** How often a connection with data brama cannot use is tried again (ms). */
const REPAIR_MS = 5000;

/** The upkeep of one store. */
export class Upkeep {
  private readonly verifying = new Set<Entry>();
  /** Who waits for the next read back of a connection (see {@link verified}). */
  private readonly waiters = new Map<Entry, (() => void)[]>();
  /**
   * Connections with a change of this process left unannounced: when to refresh them
   * (performance.now()) unless an announcement of `version` or later arrives first.
   */
  private readonly unannounced = new Map<Entry, { at: number; version: number }>();
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

  /**
   * {@link verify}, and a promise that resolves once the read back has been applied (or was not
   * needed, or the entry left): an answer to this process's own command that shows a state the
   * view has not seen yet is caught up with before `flush()` resolves. Never rejects.
   */
  verified(entry: Entry): Promise<void> {
    this.verify(entry);
    return new Promise((resolve) => {
      const list = this.waiters.get(entry);
      if (list === undefined) this.waiters.set(entry, [resolve]);
      else list.push(resolve);
    });
  }

  /** Tells whoever waits for `entry`'s read back that it is over. */
  private settled(entry: Entry): void {
    const list = this.waiters.get(entry);
    if (list === undefined) return;
    this.waiters.delete(entry);
    for (const resolve of list) resolve();
  }

  /**
   * A change of this process (at `version`) went unannounced: refresh the connection in `ms`,
   * unless an announcement covers it first (see {@link covered}).
   */
  refresh(entry: Entry, version: number, ms = REFRESH_MS): void {
    const at = performance.now() + ms;
    const pending = this.unannounced.get(entry);
    if (pending === undefined) this.unannounced.set(entry, { at, version });
    else {
      pending.at = Math.min(pending.at, at);
      pending.version = Math.max(pending.version, version);
    }
    this.schedule(ms);
  }

  /**
   * A lean report went unannounced: the trailing one refreshes half an interval after the
   * announcement is due (a report arriving in between announces by itself, and then the
   * refresh is not sent), the others one interval later still (a backstop, usually covered
   * before).
   */
  leftUnannounced(entry: Entry, reply: LeanReply): void {
    const after = reply.trailing ? TRAILING_MS : TRAILING_MS + REFRESH_MS;
    this.refresh(entry, reply.version, Math.max(0, reply.due - reply.now) + after);
  }

  /** The connection (registered at `born`) was announced at `version`. */
  covered(entry: Entry, born: number, version: number): void {
    const pending = this.unannounced.get(entry);
    if (pending !== undefined && (born !== entry.born || version >= pending.version))
      this.unannounced.delete(entry);
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
    this.settled(entry);
    this.unannounced.delete(entry);
    this.repairs.delete(entry);
  }

  /** Stops the timer. */
  close(): void {
    for (const entry of [...this.waiters.keys()]) this.settled(entry);
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
        if (entry.trustedBorn === entry.born && entry.trustedVersion >= entry.version) {
          this.settled(entry);
          continue;
        }
        entry.verifying = true;
        const sent = core.send(
          (s) => s.read(entry.record),
          (reply, sentEpoch) => {
            entry.verifying = false;
            if (reply.found) core.ingest(entry, reply, 'sync', null, sentEpoch);
            else if (core.current(entry)) void core.sync(entry);
          },
          () => (entry.verifying = false),
          entry,
        );
        if (sent === undefined) this.settled(entry);
        else void sent.then(() => this.settled(entry));
      }
      const now = performance.now();
      for (const [entry, pending] of this.unannounced) {
        if (pending.at > now) continue;
        this.unannounced.delete(entry);
        void core.send(
          (s) => s.refresh(entry.record),
          (reply, sentEpoch) => {
            if (reply.found === 'counters') core.counters(entry, reply, sentEpoch);
            else if (reply.found) core.ingest(entry, reply, 'sync', null, sentEpoch);
          },
          undefined,
          entry,
        );
      }
      // A repair that succeeds clears `local`; one that fails marks it again (silently).
      for (const [entry, at] of this.repairs) {
        if (at > now) continue;
        this.repairs.delete(entry);
        if (entry.local !== null) void core.repair(entry);
      }
    }
    if (this.verifying.size > 0) this.schedule(VERIFY_MS);
    if (this.unannounced.size > 0) {
      let next = Infinity;
      for (const pending of this.unannounced.values()) if (pending.at < next) next = pending.at;
      // While degraded, wait for the recovery (it reads every connection back anyway).
      const wait = core.online ? next - performance.now() : core.settings.recoveryInterval;
      this.schedule(Math.max(SWEEP_MS, wait));
    }
    if (this.repairs.size > 0) {
      let next = Infinity;
      for (const at of this.repairs.values()) if (at < next) next = at;
      // While the store is degraded, its own recovery comes first: look again later.
      const wait = core.online ? next - performance.now() : core.settings.recoveryInterval;
      this.schedule(Math.max(0, wait));
    }
  }
}
