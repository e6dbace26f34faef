/**
 * One reported outcome applied to a record: the trip policy's window (for `'rate'`), then the
 * transition of `transitions.ts`, and the rule that opened the circuit, if it did. Every store
 * applies outcomes through this (the memory store always, the Redis store while degraded), so
 * "what happens on a failure" is answered here and in `transitions.ts` only.
 */
import { isSlow, rateTrip, type TripRule } from './rate-policy.js';
import type { ConnectionRecord } from './record.js';
import type { CircuitSettings } from './settings.js';
import type { Circuit } from './state.js';
import { onFailure, onSuccess } from './transitions.js';
import { createWindow, hasShape, type OutcomeWindow } from './window.js';

/** The record's window under `s` (created, or replaced when its shape changed); `null` unless `'rate'`. */
export function windowOf(record: ConnectionRecord, s: CircuitSettings): OutcomeWindow | null {
  if (s.tripPolicy !== 'rate') {
    record.window = null;
    return null;
  }
  const w = record.window;
  // A window made from this very settings object is the usual case: no shape comparison.
  if (w !== null && w.snapshot !== true && (w.spec === s.window || hasShape(w, s.window))) return w;
  const fresh = createWindow(s.window);
  record.window = fresh;
  return fresh;
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
      if (w.quiet !== undefined) w.quiet = rule === null && w.calls >= s.minimumCalls ? s : null;
    }
  }
  conclude(record, s, before, failed, now, rule, retryAfterMs);
}

/**
 * The hot path of a healthy dependency under `'rate'`: a success of a closed circuit with no
 * failure in a row, whose window is ready. Applies it (as {@link applyOutcome} would) and
 * returns `true`, or does nothing and returns `false` when the case is not that one.
 */
export function closedRateSuccess(
  record: ConnectionRecord,
  s: CircuitSettings,
  now: number,
  durationMs: number | undefined,
): boolean {
  const before = record.circuit;
  if (before.state !== 'closed' || before.failureCount !== 0) return false;
  const w = record.window;
  if (w === null) return false;
  // A plain success cannot raise a rate: no check when the last one passed under these very
  // settings (`quiet === s`: then the window has their shape and is not a snapshot) and no
  // outcome has left the window since (a time window forgets `quiet` when its buckets drop
  // outcomes). The untimed success of a quiet window is the common case: it goes first.
  if (w.quiet === s && durationMs === undefined) {
    w.add(false, false, now);
    if (w.quiet !== s) checkWindow(record, s, w, before, now);
    return true;
  }
  if (w.quiet !== s && (w.spec !== s.window || w.snapshot === true)) return false;
  const slow = isSlow(durationMs, s);
  w.add(false, slow, now);
  if (w.quiet !== s || slow) checkWindow(record, s, w, before, now);
  return true;
}

/** Checks the window after a success it took, and opens the circuit when a rate trips. */
function checkWindow(
  record: ConnectionRecord,
  s: CircuitSettings,
  w: OutcomeWindow,
  before: Circuit,
  now: number,
): void {
  const rule = rateTrip(w, s);
  if (w.quiet !== undefined) w.quiet = rule === null && w.calls >= s.minimumCalls ? s : null;
  if (rule !== null) conclude(record, s, before, false, now, rule, null);
}

/** The transition of one outcome, once the window has had its say (`rule`). */
function conclude(
  record: ConnectionRecord,
  s: CircuitSettings,
  before: Circuit,
  failed: boolean,
  now: number,
  rule: TripRule | null,
  retryAfterMs: number | null,
): void {
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
