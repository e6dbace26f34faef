import type { ConnectionRecord } from '../core/record.js';
import { BramaError } from '../core/errors.js';
import { closedRateSuccess } from '../core/outcome.js';
import { ConnectionIndex } from './connection-index.js';
import { actLocally, admitLocally, reportLocally, settleLocally } from './local-apply.js';
import type { ConnectionStore, ManualAction, Outcome, OutcomeDetails, StoreHost } from './store.js';

/** The default store: state lives in this process, and every change applies synchronously. */
export class MemoryStore implements ConnectionStore {
  private host: StoreHost | null = null;
  private readonly index = new ConnectionIndex<ConnectionRecord>();

  attach(host: StoreHost): void {
    if (this.host !== null && this.host !== host) {
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        'Invalid option "store": expected a store no other Brama instance uses, received a MemoryStore that is already attached',
      );
    }
    this.host = host;
  }

  get size(): number {
    return this.index.size;
  }

  get(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.index.get(identifier, scope);
  }

  insert(record: ConnectionRecord): void {
    this.index.set(record.identifier, record.scope, record);
  }

  remove(record: ConnectionRecord): boolean {
    return this.index.delete(record.identifier, record.scope, record);
  }

  records(): IterableIterator<ConnectionRecord> {
    return this.index.values();
  }

  settle(record: ConnectionRecord, now: number): void {
    settleLocally(this.attached(), record, now);
  }

  admit(record: ConnectionRecord): boolean {
    const c = record.circuit;
    // The hot path: no clock read.
    if ((c.state === 'closed' && c.rampFrom === null) || c.state === 'unknown') return true;
    return admitLocally(this.attached(), record);
  }

  report(
    record: ConnectionRecord,
    outcome: Outcome,
    now: number,
    reason: unknown,
    details?: OutcomeDetails,
  ): void {
    const c = record.circuit;
    const host = this.host;
    if (outcome === 'success' && c.state === 'closed' && c.failureCount === 0 && host !== null) {
      const s = host.settingsOf(record);
      if (s.tripPolicy === 'rate' && !closedRateSuccess(record, s, now, details?.durationMs))
        return reportLocally(host, record, outcome, now, reason, details);
      // The hot path of a healthy dependency: counters only (what reportLocally would do, less
      // the transition function, which would return the same circuit; under 'rate', the window
      // took the success and may have opened the circuit).
      record.totalSuccesses++;
      record.lastSuccessTime = now;
      record.lastActivityAt = now;
      host.committed(record, 'success', 'closed', reason, 'local');
      return;
    }
    reportLocally(this.attached(), record, outcome, now, reason, details);
  }

  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    actLocally(this.attached(), record, action, now, reason, expiry);
  }

  reconfigured(_record: ConnectionRecord): void {
    // The record is the state: nothing to propagate.
  }

  close(): Promise<void> {
    this.index.clear();
    return Promise.resolve();
  }

  private attached(): StoreHost {
    if (this.host === null)
      throw new BramaError('BRAMA_CLOSED', 'MemoryStore is not attached to a Brama instance');
    return this.host;
  }
}
