/**
 * A batch of outcomes of one connection, summarised in constant space so that a store can send
 * many reports as one (fleet mode coalesces the reports of a tick), and applied to a circuit with
 * exactly the result of applying the outcomes one by one, in order, at one moment.
 *
 * Why this summary is enough: at one moment, a circuit reacts to a run of outcomes only through
 * the consecutive failure count. Failures before the first success (`head`) add to the count the
 * circuit had; the first success resets it (or closes a half-open circuit); after it, a trip
 * happens if and only if some run of failures between successes reaches `maxAttempts` (`run` is
 * the longest), and otherwise the count ends as the failures after the last success (`tail`).
 * Once the circuit opens, later outcomes of the batch only count in the totals, as reports on
 * an open circuit do. ("Failures since the last success" alone is not enough: a long run in the
 * middle of the batch trips it even when the batch ends with a success.)
 */
import { onFailure, onSuccess, withFailures } from './transitions.js';
import type { Circuit } from './state.js';
import type { CircuitSettings } from './settings.js';

/** Outcomes of one connection in the order they were reported, summarised. */
export interface OutcomeBatch {
  /** Successes in the batch. */
  successes: number;
  /** Failures in the batch. */
  failures: number;
  /** Failures before the first success (all of them while there is none). */
  head: number;
  /** The longest run of consecutive failures after the first success. */
  run: number;
  /** Failures after the last success (0 when the batch ends with a success). */
  tail: number;
  /** The reason of the last failure, `null` for none (as `lastFailureReason`). */
  lastFailureReason: string | null;
  /**
   * Every outcome in order, one letter each: `s` success, `f` failure, `S`/`F` the same when
   * slow. What a store needs to apply the batch one by one (the `'rate'` policy's window).
   */
  codes: string;
}

/** A batch with no outcomes. */
export function emptyBatch(): OutcomeBatch {
  return {
    successes: 0,
    failures: 0,
    head: 0,
    run: 0,
    tail: 0,
    lastFailureReason: null,
    codes: '',
  };
}

/** Adds one outcome at the end of the batch (constant time and space). */
export function addOutcome(
  batch: OutcomeBatch,
  outcome: 'success' | 'failure',
  reason: string | null,
  slow = false,
): void {
  batch.codes += outcome === 'success' ? (slow ? 'S' : 's') : slow ? 'F' : 'f';
  if (outcome === 'success') {
    batch.successes++;
    batch.tail = 0;
    return;
  }
  batch.failures++;
  batch.lastFailureReason = reason;
  if (batch.successes === 0) {
    batch.head++;
    return;
  }
  batch.tail++;
  if (batch.tail > batch.run) batch.run = batch.tail;
}

/** Whether the batch holds no outcome. */
export function isEmptyBatch(batch: OutcomeBatch): boolean {
  return batch.successes === 0 && batch.failures === 0;
}

/**
 * The circuit after the batch's outcomes, applied at `now` in order (the circuit must be
 * settled, as for `onSuccess` / `onFailure`). Returns the same object when nothing changes.
 */
export function applyBatch(
  c: Circuit,
  s: CircuitSettings,
  now: number,
  batch: OutcomeBatch,
): Circuit {
  let next = c;
  if (batch.head > 0) {
    next = failures(next, s, now, batch.head);
    if (batch.successes === 0) return next;
  } else if (batch.successes === 0) {
    return next;
  }
  next = onSuccess(next, s, now);
  if (next.state !== 'closed') return next; // open: the rest counts in the totals only
  // From a count of zero, the first run of maxAttempts failures trips the circuit.
  if (batch.run >= s.maxAttempts) return failures(next, s, now, s.maxAttempts);
  return failures(next, s, now, batch.tail);
}

/** `n` failures in a row at `now`, in constant time. */
function failures(c: Circuit, s: CircuitSettings, now: number, n: number): Circuit {
  if (n === 0) return c;
  switch (c.state) {
    case 'open':
      return c;
    case 'half_open':
      return onFailure(c, s, now); // the first one re-opens; the rest count in the totals
    case 'unknown':
      // The first failure is a transition of its own (to closed, or open at maxAttempts 1).
      return failures(onFailure(c, s, now), s, now, n - 1);
    case 'closed': {
      // Stop one short of the trip (or of the end), then let onFailure take the last step, so
      // the transition is exactly the core's.
      const before = Math.min(n, Math.max(0, s.maxAttempts - c.failureCount)) - 1;
      if (before < 0) return onFailure(c, s, now);
      const counted = before === 0 ? c : withFailures(c, c.failureCount + before);
      return onFailure(counted, s, now);
    }
  }
}
