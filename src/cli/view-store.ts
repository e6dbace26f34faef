/**
 * The dashboard's store: a `RedisStore` whose local views can be dropped without deleting the
 * shared state. `unregister` deletes a connection's keys in Redis; a dashboard that stops
 * showing a connection another process removed must not touch Redis, so inside
 * {@link ViewStore.dropLocally} a removal is passed on as `'cleanup'` (a local removal only).
 */
import type { ConnectionRecord } from '../core/record.js';
import type { RedisStore } from '../stores/redis/redis-store.js';
import type {
  ConnectionStore,
  ManualAction,
  Outcome,
  OutcomeDetails,
  RemovalCause,
  StoreHost,
} from '../stores/store.js';

/** Delegates everything to a `RedisStore`, except removals made inside `dropLocally`. */
export class ViewStore implements ConnectionStore {
  private dropping = false;

  constructor(readonly inner: RedisStore) {}

  /** Runs `unregister` so that it removes only the local view (the keys in Redis stay). */
  dropLocally(unregister: () => void): void {
    this.dropping = true;
    try {
      unregister();
    } finally {
      this.dropping = false;
    }
  }

  attach(host: StoreHost): void {
    this.inner.attach(host);
  }
  get(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.inner.get(identifier, scope);
  }
  insert(record: ConnectionRecord): void {
    this.inner.insert(record);
  }
  remove(record: ConnectionRecord, cause: RemovalCause): boolean {
    return this.inner.remove(record, this.dropping ? 'cleanup' : cause);
  }
  records(): IterableIterator<ConnectionRecord> {
    return this.inner.records();
  }
  get size(): number {
    return this.inner.size;
  }
  settle(record: ConnectionRecord, now: number): void {
    this.inner.settle(record, now);
  }
  admit(record: ConnectionRecord): boolean {
    return this.inner.admit(record);
  }
  wouldAdmit(record: ConnectionRecord): boolean {
    return this.inner.wouldAdmit(record);
  }
  report(
    record: ConnectionRecord,
    outcome: Outcome,
    now: number,
    reason: unknown,
    details?: OutcomeDetails,
  ): void {
    this.inner.report(record, outcome, now, reason, details);
  }
  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    this.inner.act(record, action, now, reason, expiry);
  }
  reconfigured(record: ConnectionRecord): void {
    this.inner.reconfigured(record);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  get degraded(): boolean {
    return this.inner.degraded;
  }
}
