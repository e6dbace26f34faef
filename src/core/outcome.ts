/**
 * One reported outcome applied to a record: the trip policy's window (for `'rate'`), then the
 * transition of `transitions.ts`, and the rule that opened the circuit, if it did. Every store
 * applies outcomes through this (the memory store always, the Redis store while degraded), so
 * "what happens on a failure" is answered here and in `transitions.ts` only.
 */
import { isSlow, rateTrip, type TripRule } from './rate-policy.js';
import type { ConnectionRecord } from './record.js';
import type { CircuitSettings } from './settings.js';
import { onFailure, onSuccess } from './transitions.js';
import { createWindow, hasShape, type OutcomeWindow } from './window.js';

/** The record's window under `s` (created, or replaced when its shape changed); `null` unless `'rate'`. */
export function windowOf(record: ConnectionRecord, s: CircuitSettings): OutcomeWindow | null {
  if (s.tripPolicy !== 'rate') {
    record.window = null;
    return null;
  }
  let w = record.window;
  if (w === null || w.snapshot === true || !hasShape(w, s.window)) {
    w = createWindow(s.window);
    record.window = w;
  }
  return w;
}

/**
 * Applies a success (`failed: false`) or failure to the record's circuit at `now`. Only outcomes
 * of an unknown or closed circuit enter the window; the window empties when the circuit closes
 * after being open. `retryAfterMs` (failures) opens the circuit for exactly that long.
 */
export function applyOutcome(
  record: ConnectionRecord,
  s: CircuitSettings,
  failed: boolean,
  now: number,
  durationMs: number | undefined,
  retryAfterMs: number | null,
): void {
  const before = record.circuit;
  let rule: TripRule | null = null;
  if (before.state === 'closed' || before.state === 'unknown') {
    const w = windowOf(record, s);
    if (w !== null) {
      w.add(failed, isSlow(durationMs, s), now);
      rule = rateTrip(w, s);
    }
  }
  const retry = failed ? retryAfterMs : null;
  const after = failed
    ? onFailure(before, s, now, rule !== null, retry)
    : onSuccess(before, s, now, rule !== null);
  record.circuit = after;
  if (after === before) return;
  if (after.state === 'open' && before.state !== 'open') {
    record.trip =
      retry !== null
        ? { rule: 'retry_after', retryAfterMs: retry }
        : before.state === 'half_open'
          ? { rule: 'failed_trial' }
          : (rule ?? {
              rule: 'consecutive_failures',
              failures: after.failureCount,
              threshold: s.maxAttempts,
            });
  } else if (after.state === 'closed' && before.state !== 'closed' && before.state !== 'unknown') {
    record.window?.clear();
  }
}
