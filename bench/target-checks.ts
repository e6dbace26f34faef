/** A target's result, and the helpers that judge a goal over one run's samples. */
import { percentile, summarize, type Summary } from './stats.js';
import type { Row, Table } from './table.js';

export interface TargetResult {
  readonly id: string;
  readonly goal: string;
  /** The measured value (median over rounds) and its spread, in `unit`. */
  readonly measured: Summary;
  readonly unit: string;
  /** Rounds (or trips) in which the goal held, out of all of them. */
  readonly roundsMet: number;
  /** Judged on the median over rounds, or on {@link statistic} when set. */
  readonly met: boolean;
  /** A percentile over samples instead of the median over rounds, e.g. `p99` over trips. */
  readonly statistic?: { readonly label: string; readonly value: number; readonly of: string };
  /** Why the target was not measured in this run. */
  readonly skipped?: string;
}
export function row(table: Table, key: string): Row {
  const found = table.rows.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no row ${key} in ${table.title}`);
  return found;
}

export function check(
  id: string,
  goal: string,
  values: readonly number[],
  unit: string,
  holds: (v: number) => boolean,
): TargetResult {
  const measured = summarize(values);
  return {
    id,
    goal,
    measured,
    unit,
    roundsMet: values.filter(holds).length,
    met: holds(measured.median),
  };
}

/** A goal judged on the `q` percentile of `values` (e.g. latencies of every trip). */
export function checkPercentile(
  id: string,
  goal: string,
  values: readonly number[],
  q: number,
  of: string,
  unit: string,
  holds: (v: number) => boolean,
): TargetResult {
  const value = percentile(values, q);
  return {
    id,
    goal,
    measured: summarize(values),
    unit,
    roundsMet: values.filter(holds).length,
    met: holds(value),
    statistic: { label: `p${Math.round(q * 100)}`, value, of },
  };
}

export function skippedTarget(id: string, goal: string, unit: string, why: string): TargetResult {
  return { id, goal, measured: summarize([]), unit, roundsMet: 0, met: false, skipped: why };
}
