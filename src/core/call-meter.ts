/**
 * Per-connection call metering: plain counters an exporter (`brama/metrics`) reads when it is
 * scraped. A registry keeps one {@link CallMeter} per connection, made on first use and only while
 * an exporter is attached, so a registry without one allocates and counts nothing.
 */
import type { CircuitState } from './state.js';

/** How a call ended, as the metrics count it. */
export type MeteredOutcome = 'success' | 'failure' | 'ignored' | 'rejected' | 'timeout';

/** Every metered outcome, in the order of {@link CallMeter.calls}. */
export const METERED_OUTCOMES: readonly MeteredOutcome[] = Object.freeze([
  'success',
  'failure',
  'ignored',
  'rejected',
  'timeout',
]);

/** Index of an outcome in {@link CallMeter.calls} and {@link CallMeter.durations}. */
export const OUTCOME_INDEX: Readonly<Record<MeteredOutcome, number>> = Object.freeze({
  success: 0,
  failure: 1,
  ignored: 2,
  rejected: 3,
  timeout: 4,
});

/** Every state, in the order of the transition matrix ({@link CallMeter.transitions}). */
export const METERED_STATES: readonly CircuitState[] = Object.freeze([
  'closed',
  'open',
  'half_open',
  'unknown',
]);

const STATE_INDEX: Readonly<Record<CircuitState, number>> = Object.freeze({
  closed: 0,
  open: 1,
  half_open: 2,
  unknown: 3,
});

/**
 * Upper bounds (ms, inclusive) of the duration buckets: Prometheus' default buckets (5 ms to
 * 10 s). Kept in ms so that bucketing the registry clock's integer ms is exact.
 */
export const DURATION_BOUNDS_MS: readonly number[] = Object.freeze([
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
]);

/** Durations of one outcome's calls: a count per bucket (not cumulative; the last is +Inf). */
export class DurationHistogram {
  readonly buckets = new Float64Array(DURATION_BOUNDS_MS.length + 1);
  count = 0;
  /** Sum of the durations, in ms (exact for integer ms; converted to seconds when exported). */
  sumMs = 0;

  observe(ms: number): void {
    let i = 0;
    const bounds = DURATION_BOUNDS_MS;
    while (i < bounds.length && ms > (bounds[i] as number)) i++;
    (this.buckets[i] as number)++;
    this.count++;
    this.sumMs += ms;
  }
}

/** One connection's counts since metering started. */
export class CallMeter {
  /** Calls per outcome, indexed by {@link OUTCOME_INDEX}. */
  readonly calls = new Float64Array(METERED_OUTCOMES.length);
  /** Transitions `from * 4 + to` (indices of {@link METERED_STATES}); `null` before the first. */
  transitions: Float64Array | null = null;
  /** Durations of wrapped calls per outcome (`null` until one is observed). */
  readonly durations: (DurationHistogram | null)[] = [null, null, null, null, null];

  /** Counts one call; `ms`: its duration when it was timed (`NaN` otherwise). */
  count(outcome: number, ms: number): void {
    (this.calls[outcome] as number)++;
    if (ms !== ms) return; // NaN: not timed
    const histogram = (this.durations[outcome] ??= new DurationHistogram());
    histogram.observe(ms);
  }

  /** Counts one change of state. */
  transition(from: CircuitState, to: CircuitState): void {
    const matrix = (this.transitions ??= new Float64Array(16));
    (matrix[transitionIndex(from, to)] as number)++;
  }
}

/** Index of a transition in {@link CallMeter.transitions}. */
export function transitionIndex(from: CircuitState, to: CircuitState): number {
  return STATE_INDEX[from] * 4 + STATE_INDEX[to];
}

/** The record's meter, made on first use. */
export function meterOf(holder: { meter: CallMeter | null }): CallMeter {
  return (holder.meter ??= new CallMeter());
}
