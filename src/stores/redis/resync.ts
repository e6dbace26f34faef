/**
 * Reconciliation of the Redis store with Redis, after a degraded period or a subscription that
 * was re-established (announcements may have been missed). In order:
 *
 * 1. connections unregistered while Redis could not be told are deleted;
 * 2. per connection, reports sent before the outage and never answered are replayed, each with
 *    its own sequence number (Redis drops those it already applied) and to the totals only;
 * 3. `sync` rebuilds a connection Redis lost from the view, or adds the outcomes counted while
 *    degraded; its answer brings the view to Redis' state (Redis wins);
 * 4. options configured and the last manual action taken while degraded are replayed.
 *
 * Memory stays bounded by the connection count: one pending item of each kind per connection.
 */
import type { ConnectionRef } from './commands.js';
import type { StoreContext } from './context.js';
import { deltaOf, seedOf, type Entry } from './view.js';

/** How many connections a reconciliation handles at once. */
const RESYNC_BATCH = 256;

/** Replays and reconciles one store. */
export class Resync {
  /** Connections unregistered while Redis could not be told, by tag: deleted on recovery. */
  private readonly deletes = new Map<string, ConnectionRef>();

  constructor(private readonly core: StoreContext) {}

  /** Remembers a delete to replay (the latest registration of the same tag comes after it). */
  deleteLater(tag: string, ref: ConnectionRef): void {
    this.deletes.set(tag, { identifier: ref.identifier, scope: ref.scope });
  }

  /** Whether a delete of this connection waits for Redis. */
  deletePending(tag: string): boolean {
    return this.deletes.has(tag);
  }

  /** Deletes a connection now, or later when Redis cannot be reached. */
  delete(tag: string, ref: ConnectionRef): void {
    if (!this.core.online) return this.deleteLater(tag, ref);
    void this.core.send(
      (s) => s.delete(ref),
      () => {},
      (outage) => {
        if (outage) this.deleteLater(tag, ref);
      },
    );
  }

  /**
   * Rebuilds the connection in Redis from the view if Redis lost it, and adds the outcomes
   * counted offline (frozen with one sequence number until answered, so a resend counts once);
   * `then` runs once the answer is applied (scripts/sync.ts).
   */
  sync(entry: Entry, then?: () => void): Promise<void> | undefined {
    const core = this.core;
    const { record } = entry;
    if (entry.syncing === null && entry.offline !== null) {
      entry.syncing = { seq: core.nextSeq(), counts: entry.offline };
      entry.offline = null;
    }
    const frozen = entry.syncing;
    const seq = frozen?.seq ?? core.nextSeq();
    const offset = core.link.offset;
    const seed = seedOf(entry, offset);
    const delta = deltaOf(frozen?.counts ?? null, offset);
    entry.needsRegister = false;
    return core.send(
      (s) => s.sync(record, record.options, record.metadata, seed, delta, seq),
      (reply, sentEpoch) => {
        if (entry.syncing === frozen) entry.syncing = null;
        if (!reply.found) return;
        entry.local = null;
        entry.diverged = false; // this answer carries the local changes: Redis wins again
        core.ingest(entry, reply, 'sync', null, sentEpoch);
        // Outcomes counted offline while this was in flight go in the next one.
        if (entry.offline !== null && core.online) void this.sync(entry);
        then?.();
      },
      (outage, error) => {
        entry.needsRegister = true;
        if (!outage) core.broke(entry, error);
      },
      entry,
    );
  }

  /** The whole reconciliation; resolves when done or when the store degrades again. */
  async run(): Promise<void> {
    const core = this.core;
    const deletes = [...this.deletes];
    const sent: Promise<void>[] = [];
    for (const [tag, ref] of deletes) {
      const done = core.send(
        (s) => s.delete(ref),
        () => {
          if (this.deletes.get(tag) === ref) this.deletes.delete(tag);
        },
      );
      if (done !== undefined) sent.push(done);
    }
    await Promise.allSettled(sent);
    const entries = core.entries();
    for (let i = 0; i < entries.length && core.online; i += RESYNC_BATCH) {
      const batch: Promise<void>[] = [];
      for (const entry of entries.slice(i, i + RESYNC_BATCH)) {
        if (core.current(entry)) batch.push(...this.one(entry));
      }
      await Promise.allSettled(batch);
    }
  }

  /** Replays what waited for one connection and syncs it; resolves once all is answered. */
  async repair(entry: Entry): Promise<void> {
    if (this.core.current(entry)) await Promise.allSettled(this.one(entry));
  }

  /** Replays and reads back one connection; the promises settle when their answers applied. */
  private one(entry: Entry): Promise<void>[] {
    const core = this.core;
    const { record } = entry;
    const answers: (Promise<void> | undefined)[] = [];
    for (const report of entry.unacked.splice(0)) {
      answers.push(
        core.send(
          (s) =>
            s.reportBatch(
              record,
              core.host.settingsOf(record),
              report.batch,
              null,
              null,
              report.seq,
              'totals',
            ),
          (reply, sentEpoch) => {
            // Not found: Redis lost the connection; sync rebuilds it with these totals. A lean
            // answer holds counters only: the sync right after brings the whole state.
            if (reply.found === true) core.ingest(entry, reply, 'sync', null, sentEpoch);
          },
          (outage) => {
            if (outage) entry.unacked.push(report);
          },
          entry,
        ),
      );
    }
    answers.push(core.sync(entry));
    if (entry.needsConfigure) {
      entry.needsConfigure = false;
      const seq = core.nextSeq();
      answers.push(
        core.send(
          (s) => s.configure(record, record.options, record.metadata, seq),
          (reply, sentEpoch) => {
            if (reply.found) core.ingest(entry, reply, 'configure', null, sentEpoch);
          },
          (outage) => {
            if (outage) entry.needsConfigure = true;
          },
          entry,
        ),
      );
    }
    const action = entry.pendingAction;
    if (action !== null) {
      entry.pendingAction = null;
      const seq = core.nextSeq();
      answers.push(
        core.send(
          (s) =>
            s.act(
              record,
              core.host.settingsOf(record),
              action.action,
              action.expiry,
              action.reason,
              seq,
            ),
          (reply, sentEpoch) => {
            if (reply.found) core.ingest(entry, reply, action.action, action.reason, sentEpoch);
          },
          (outage) => {
            if (outage) entry.pendingAction ??= action;
          },
          entry,
        ),
      );
    }
    return answers.filter((a): a is Promise<void> => a !== undefined);
  }
}
