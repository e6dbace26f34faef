/**
 * Coalescing of the Redis store's reports: the outcomes of one connection reported within a
 * tick leave as one command (one `report` of a batch, src/core/outcome-batch.ts) at the end of
 * the tick, with the states of applying them one by one. Adding an outcome is constant time;
 * nothing waits longer than the current tick, and a batch that could trip the circuit leaves at
 * once, so trips are not delayed.
 *
 * End of tick (setImmediate) rather than a timer: calls that complete together (a burst of
 * replies, a loop of reports) share one command, and a lone report pays no added latency.
 */
import { addOutcome, emptyBatch, type OutcomeBatch } from '../../core/outcome-batch.js';
import type { CircuitSettings } from '../../core/settings.js';
import type { BatchedOutcome, Entry, PendingBatch } from './view.js';

export type { BatchedOutcome, PendingBatch } from './view.js';

/** The most outcomes one batch holds; a full batch leaves at once. */
export const MAX_BATCH = 1024;

/** Collects outcomes per connection and hands each batch to `send` when it should leave. */
export class Coalescer {
  private readonly waiting = new Set<Entry>();
  private scheduled: ReturnType<typeof setImmediate> | null = null;

  constructor(private readonly send: (entry: Entry, pending: PendingBatch) => void) {}

  /** Whether any batch waits. */
  get idle(): boolean {
    return this.waiting.size === 0;
  }

  /** Adds an outcome to the connection's batch; sends the batch now if it could trip. */
  add(entry: Entry, outcome: BatchedOutcome, settings: CircuitSettings): void {
    let pending = entry.pending;
    if (pending === null) {
      pending = { batch: emptyBatch(), outcomes: [] };
      entry.pending = pending;
      this.waiting.add(entry);
      this.schedule();
    }
    addOutcome(pending.batch, outcome.outcome, outcome.text, outcome.slow);
    pending.outcomes.push(outcome);
    if (couldTrip(entry, pending.batch, settings) || pending.outcomes.length >= MAX_BATCH)
      this.flush(entry);
  }

  /** Sends the connection's batch now (before another command of it, so order is kept). */
  flush(entry: Entry): void {
    const pending = entry.pending;
    if (pending === null) return;
    entry.pending = null;
    this.waiting.delete(entry);
    this.send(entry, pending);
  }

  /** Sends every waiting batch. */
  flushAll(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    for (const entry of this.waiting) this.flush(entry);
  }

  /** Drops the connection's batch (it left the registry: nothing more to report). */
  forget(entry: Entry): void {
    entry.pending = null;
    this.waiting.delete(entry);
  }

  private schedule(): void {
    if (this.scheduled !== null) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.flushAll();
    });
  }
}

/**
 * Whether a batch could trip the circuit (so it must not wait): the view is not closed (a
 * half-open view decides on its first outcome), its failures could reach `maxAttempts` with the
 * count the view knows (which may lag behind the fleet's, hence the generous test), or, under
 * the `'rate'` policy, it holds a failure or a slow call.
 */
export function couldTrip(entry: Entry, batch: OutcomeBatch, settings: CircuitSettings): boolean {
  const { state, failureCount } = entry.record.circuit;
  if (state === 'half_open' || state === 'unknown') return true; // its next outcome moves it
  if (state === 'open') return false;
  // Under the 'rate' policy, any failure or slow call could tip the window's rate.
  if (settings.tripPolicy === 'rate') return batch.failures > 0 || batch.codes.includes('S');
  if (batch.failures === 0) return false;
  const m = settings.maxAttempts;
  return batch.run >= m || failureCount + Math.max(batch.head, batch.tail) >= m;
}
