/**
 * Applying changes to a record in this process: the memory store's whole job, and what the
 * Redis store does while its backend is unreachable. Each function replaces the record's
 * circuit through the pure core and tells the host what it committed (origin `'local'`).
 */
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
import type { ManualAction, Outcome, StoreHost } from './store.js';

/** The lazy open → half-open transition, if the open period has elapsed. */
export function settleLocally(host: StoreHost, record: ConnectionRecord, now: number): void {
  const before = record.circuit;
  const after = settle(before, now);
  if (after === before) return;
  record.circuit = after;
  record.lastActivityAt = Math.max(record.lastActivityAt, after.changedAt);
  host.committed(record, 'expire', before.state, null, 'local');
}

/** May a call go ahead? Records a half-open trial when it admits one. */
export function admitLocally(host: StoreHost, record: ConnectionRecord): boolean {
  const state = record.circuit.state;
  if (state === 'closed' || state === 'unknown') return true; // the hot path: no clock read
  const now = host.clock.now();
  settleLocally(host, record, now);
  const next = admit(record.circuit, host.settingsOf(record), now);
  if (next === null) return false;
  record.circuit = next;
  return true;
}

/** Applies a reported outcome. */
export function reportLocally(
  host: StoreHost,
  record: ConnectionRecord,
  outcome: Outcome,
  now: number,
  reason: unknown,
): void {
  if (record.circuit.state === 'open') settleLocally(host, record, now);
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

/** Applies a manual action; `expiry` (ms) only for `'open'`. */
export function actLocally(
  host: StoreHost,
  record: ConnectionRecord,
  action: ManualAction,
  now: number,
  reason: unknown,
  expiry: number | null,
): void {
  settleLocally(host, record, now);
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
