import { assertNever } from '../core/assert-never.js';
import { reasonText, type ConnectionRecord } from '../core/record.js';
import {
  admit,
  closeManually,
  force,
  onFailure,
  onIgnored,
  onSuccess,
  openManually,
  settle,
} from '../core/transitions.js';
import { BramaError } from '../core/errors.js';
import type { ConnectionStore, ManualAction, Outcome, StoreHost } from './store.js';

/**
 * The default store: state lives in this process. Connections without a scope sit in one map
 * keyed by identifier, scoped ones in a map per scope, so no string encoding of (identifier,
 * scope) is needed and no two connections can ever share a key.
 */
export class MemoryStore implements ConnectionStore {
  private host: StoreHost | null = null;
  private readonly unscoped = new Map<string, ConnectionRecord>();
  private readonly scoped = new Map<string, Map<string, ConnectionRecord>>();
  private count = 0;

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
    return this.count;
  }

  get(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return scope === null ? this.unscoped.get(identifier) : this.scoped.get(scope)?.get(identifier);
  }

  insert(record: ConnectionRecord): void {
    let map = this.unscoped;
    if (record.scope !== null) {
      let inScope = this.scoped.get(record.scope);
      if (inScope === undefined)
        this.scoped.set(record.scope, (inScope = new Map<string, ConnectionRecord>()));
      map = inScope;
    }
    if (!map.has(record.identifier)) this.count++;
    map.set(record.identifier, record);
  }

  remove(record: ConnectionRecord): boolean {
    const map = record.scope === null ? this.unscoped : this.scoped.get(record.scope);
    if (map?.get(record.identifier) !== record) return false;
    map.delete(record.identifier);
    if (record.scope !== null && map.size === 0) this.scoped.delete(record.scope);
    this.count--;
    return true;
  }

  *records(): IterableIterator<ConnectionRecord> {
    yield* this.unscoped.values();
    for (const inScope of this.scoped.values()) yield* inScope.values();
  }

  settle(record: ConnectionRecord, now: number): void {
    const before = record.circuit;
    const after = settle(before, now);
    if (after === before) return;
    record.circuit = after;
    record.lastActivityAt = Math.max(record.lastActivityAt, after.changedAt);
    this.attached().committed(record, 'expire', before.state, null, 'local');
  }

  admit(record: ConnectionRecord): boolean {
    const state = record.circuit.state;
    if (state === 'closed' || state === 'unknown') return true; // the hot path: no clock read
    const now = this.attached().clock.now();
    this.settle(record, now);
    const next = admit(record.circuit, this.attached().settingsOf(record), now);
    if (next === null) return false;
    record.circuit = next;
    return true;
  }

  report(record: ConnectionRecord, outcome: Outcome, now: number, reason: unknown): void {
    const host = this.attached();
    if (record.circuit.state === 'open') this.settle(record, now);
    const before = record.circuit;
    switch (outcome) {
      case 'success':
        record.totalSuccesses++;
        record.lastSuccessTime = now;
        record.circuit = onSuccess(before, host.settingsOf(record), now);
        break;
      case 'failure':
        record.totalFailures++;
        record.lastFailureTime = now;
        record.lastFailureReason = reasonText(reason);
        record.circuit = onFailure(before, host.settingsOf(record), now);
        break;
      case 'ignore':
        // Not an outcome: frees a trial slot, is not activity, emits nothing.
        record.circuit = onIgnored(before);
        return;
      default:
        assertNever(outcome);
    }
    record.lastActivityAt = now;
    host.committed(record, outcome, before.state, reason, 'local');
  }

  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    const host = this.attached();
    this.settle(record, now);
    const before = record.circuit;
    const settings = host.settingsOf(record);
    switch (action) {
      case 'open':
        record.circuit = openManually(before, settings, now, expiry);
        break;
      case 'close':
      case 'reset':
        record.circuit = closeManually(before, now);
        break;
      case 'force_closed':
        record.circuit = force(before, settings, 'closed', now);
        break;
      case 'force_open':
        record.circuit = force(before, settings, 'open', now);
        break;
      case 'force_half_open':
        record.circuit = force(before, settings, 'half_open', now);
        break;
      default:
        assertNever(action);
    }
    record.lastActivityAt = now;
    host.committed(record, action, before.state, reason, 'local');
  }

  reconfigured(_record: ConnectionRecord): void {
    // The record is the state: nothing to propagate.
  }

  close(): Promise<void> {
    this.unscoped.clear();
    this.scoped.clear();
    this.count = 0;
    return Promise.resolve();
  }

  private attached(): StoreHost {
    if (this.host === null)
      throw new BramaError('BRAMA_CLOSED', 'MemoryStore is not attached to a Brama instance');
    return this.host;
  }
}
