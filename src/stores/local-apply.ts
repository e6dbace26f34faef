/**
 * Applying changes to a record in this process: the memory store's whole job, and what the
 * Redis store does while its backend is unreachable. Each function replaces the record's
 * circuit through the pure core and tells the host what it committed (origin `'local'`).
 */
import { assertNever } from '../core/assert-never.js';
import { reasonText, type ConnectionRecord } from '../core/record.js';
import { applyOutcome } from '../core/outcome.js';
import {
  admit,
  closeManually,
  force,
  onIgnored,
  openManually,
  settle,
} from '../core/transitions.js';
import {
  NO_DETAILS,
  type ManualAction,
  type Outcome,
  type OutcomeDetails,
  type StoreHost,
} from './store.js';

/** The lazy open → half-open transition, if the open period has elapsed. */
export function settleLocally(host: StoreHost, record: ConnectionRecord, now: number): void {
  const before = record.circuit;
  const after = settle(before, now);
  if (after === before) return;
  record.circuit = after;
  record.lastActivityAt = Math.max(record.lastActivityAt, after.changedAt);
  host.committed(record, 'expire', before.state, null, 'local');
}

/**
 * May a call go ahead? Records a half-open trial when it admits one. In `'shadow'` mode the
 * answer is always yes, but trial slots are taken as in `'enforce'`.
 */
export function admitLocally(host: StoreHost, record: ConnectionRecord): boolean {
  const c = record.circuit;
  // The hot path: no clock read.
  if ((c.state === 'closed' && c.rampFrom === null) || c.state === 'unknown') return true;
  const now = host.clock.now();
  settleLocally(host, record, now);
  const settings = host.settingsOf(record);
  const next = admit(record.circuit, settings, now, host.random);
  if (next === null) return settings.mode === 'shadow';
  record.circuit = next;
  return true;
}

/** Applies a reported outcome (with its duration and retry-after, when given). */
export function reportLocally(
  host: StoreHost,
  record: ConnectionRecord,
  outcome: Outcome,
  now: number,
  reason: unknown,
  details: OutcomeDetails = NO_DETAILS,
): void {
  if (record.circuit.state === 'open') settleLocally(host, record, now);
  const before = record.circuit;
  switch (outcome) {
    case 'success':
      record.totalSuccesses++;
      record.lastSuccessTime = now;
      applyOutcome(record, host.settingsOf(record), false, now, details.durationMs, null);
      break;
    case 'failure':
      record.totalFailures++;
      record.lastFailureTime = now;
      record.lastFailureReason = reasonText(reason);
      applyOutcome(
        record,
        host.settingsOf(record),
        true,
        now,
        details.durationMs,
        details.retryAfterMs ?? null,
      );
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
      record.window?.clear();
      break;
    case 'force_closed':
      record.circuit = force(before, settings, 'closed', now);
      record.window?.clear();
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
