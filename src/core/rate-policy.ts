/**
 * The `'rate'` trip policy: a closed circuit opens when, among the outcomes of its window (once
 * there are at least `minimumCalls`), the share of failures reaches `failureRateThreshold`, or
 * the share of slow calls reaches `slowCallRateThreshold` (when `slowCallMs` is set). Pure: the
 * window's counts in, a verdict out.
 */
import type { CircuitSettings } from './settings.js';
import type { WindowCounts } from './window.js';

/** Why an outcome opened a circuit; events carry it as `data.trip`. */
export type TripRule =
  | {
      /** `maxAttempts` failures in a row (the `'consecutive'` policy). */
      readonly rule: 'consecutive_failures';
      readonly failures: number;
      readonly threshold: number;
    }
  | {
      /** The share of failures, or of slow calls, in the window (the `'rate'` policy). */
      readonly rule: 'failure_rate' | 'slow_call_rate';
      readonly rate: number;
      readonly threshold: number;
      readonly calls: number;
    }
  | {
      /** A failure that asked for a pause (`retryAfterMs`, e.g. HTTP `Retry-After`). */
      readonly rule: 'retry_after';
      readonly retryAfterMs: number;
    }
  | {
      /** A half-open circuit's trial failed. */
      readonly rule: 'failed_trial';
    };

/** The share of failures in the window, `null` below `minimumCalls` (or without a window). */
export function failureRate(
  w: WindowCounts | null,
  s: Pick<CircuitSettings, 'minimumCalls'>,
): number | null {
  return w === null || w.calls < s.minimumCalls || w.calls === 0 ? null : w.failures / w.calls;
}

/** The share of slow calls in the window, `null` below `minimumCalls` (or without a window). */
export function slowCallRate(
  w: WindowCounts | null,
  s: Pick<CircuitSettings, 'minimumCalls'>,
): number | null {
  return w === null || w.calls < s.minimumCalls || w.calls === 0 ? null : w.slow / w.calls;
}

/** Whether the window's counts open the circuit, and by which rule; `null` when they do not. */
export function rateTrip(w: WindowCounts, s: CircuitSettings): TripRule | null {
  if (w.calls < s.minimumCalls || w.calls === 0) return null;
  const failures = w.failures / w.calls;
  if (failures >= s.failureRateThreshold)
    return {
      rule: 'failure_rate',
      rate: failures,
      threshold: s.failureRateThreshold,
      calls: w.calls,
    };
  if (s.slowCallMs === null) return null;
  const slow = w.slow / w.calls;
  if (slow >= s.slowCallRateThreshold)
    return {
      rule: 'slow_call_rate',
      rate: slow,
      threshold: s.slowCallRateThreshold,
      calls: w.calls,
    };
  return null;
}

/** Whether a call that took `durationMs` (absent: unknown) is slow under `s`. */
export function isSlow(durationMs: number | undefined, s: CircuitSettings): boolean {
  return durationMs !== undefined && s.slowCallMs !== null && durationMs >= s.slowCallMs;
}
