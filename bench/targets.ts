/** The performance goals of the benchmark issue, checked against one run's results. */
import type { FleetResults } from './scenarios/fleet.js';
import type { ScaleRow } from './scenarios/scale.js';
import { pairedRatios, percentile, summarize, type Summary } from './stats.js';
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

export interface Results {
  readonly closed?: Table;
  /** Failure recorded while closed. */
  readonly failing?: Table;
  readonly open?: Table;
  readonly throughput?: Table;
  readonly scale?: readonly ScaleRow[];
  readonly fleet?: FleetResults;
}

function row(table: Table, key: string): Row {
  const found = table.rows.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no row ${key} in ${table.title}`);
  return found;
}

function check(
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
function checkPercentile(
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

function skippedTarget(id: string, goal: string, unit: string, why: string): TargetResult {
  return { id, goal, measured: summarize([]), unit, roundsMet: 0, met: false, skipped: why };
}

const FLEET_GOALS = {
  available: '`isAvailable` with the Redis store ≤ 1.2x the memory store',
  reports: '≥ 50,000 reports/s per process against local Redis',
  propagation: 'a trip seen by another process within 50 ms (p99)',
} as const;

function fleetTargets(fleet: FleetResults): TargetResult[] {
  if (fleet.skipped !== null) {
    return [
      skippedTarget('fleet-available', FLEET_GOALS.available, 'x memory store', fleet.skipped),
      skippedTarget('fleet-reports', FLEET_GOALS.reports, 'reports/s', fleet.skipped),
      skippedTarget('fleet-propagation', FLEET_GOALS.propagation, 'ms', fleet.skipped),
    ];
  }
  const out: TargetResult[] = [];
  if (fleet.available !== undefined) {
    out.push(
      check(
        'fleet-available',
        FLEET_GOALS.available,
        row(fleet.available, 'redis.closed').ratio ?? [],
        'x memory store',
        (v) => v <= 1.2,
      ),
    );
  }
  const success = fleet.reports?.find((r) => r.key === 'brama.success');
  if (success !== undefined) {
    out.push(
      check('fleet-reports', FLEET_GOALS.reports, success.rate, 'reports/s', (v) => v >= 50_000),
    );
  }
  const p = fleet.propagation;
  if (p !== undefined) {
    // A trip the observer never saw counts as infinitely late.
    const latencies = [...p.remoteOpenMs, ...Array<number>(p.lost).fill(Infinity)];
    out.push(
      checkPercentile(
        'fleet-propagation',
        FLEET_GOALS.propagation,
        latencies,
        0.99,
        'trips',
        'ms',
        (v) => v <= 50,
      ),
    );
  }
  return out;
}

/** Per-round differences `a[i] - b[i]` (rounds are interleaved, as for ratios). */
function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    out.push((a[i] as number) - (b[i] as number));
  return out;
}

export function evaluateTargets(results: Results): TargetResult[] {
  const out: TargetResult[] = [];
  const apis = [
    ['brama.wrap', '`wrap`'],
    ['brama.run', '`run`'],
  ] as const;
  const { closed, failing, open, throughput, scale } = results;
  if (closed !== undefined) {
    for (const [key, api] of apis) {
      const brama = row(closed, key);
      out.push(
        check(
          `${key}-raw`,
          `${api} call ≤ 2x raw await`,
          brama.ratio ?? [],
          'x raw',
          (v) => v <= 2,
        ),
      );
      out.push(
        check(
          `${key}-cockatiel`,
          `${api} call ≤ 0.6x cockatiel's time`,
          pairedRatios(brama.samples, row(closed, 'cockatiel').samples),
          'x cockatiel',
          (v) => v <= 0.6,
        ),
      );
    }
    out.push(
      check(
        'brama.run+timeout',
        '`run` with a `timeout` ≤ 1 µs above `run` without',
        pairedDifferences(
          row(closed, 'brama.run+timeout').samples,
          row(closed, 'brama.run').samples,
        ),
        'ns',
        (v) => v <= 1_000,
      ),
    );
  }
  if (failing !== undefined) {
    for (const [key, api] of apis) {
      out.push(
        check(
          `${key}-failure`,
          `${api} failure while closed ≤ 1.5x the unprotected rejection`,
          row(failing, key).ratio ?? [],
          'x raw',
          (v) => v <= 1.5,
        ),
      );
    }
  }
  if (open !== undefined) {
    for (const [key, api] of apis) {
      out.push(
        check(
          `${key}-open`,
          `${api} rejection while open ≤ 1.3x an unprotected pre-built rejection`,
          row(open, key).ratio ?? [],
          'x raw',
          (v) => v <= 1.3,
        ),
      );
    }
  }
  if (throughput !== undefined) {
    for (const [key, api] of apis) {
      out.push(
        check(
          `${key}-throughput`,
          `${api} throughput ≥ 0.85x raw (1,000 in flight, 1 ms)`,
          row(throughput, key).ratio ?? [],
          'x raw',
          (v) => v >= 0.85,
        ),
      );
    }
  }
  const at100k = scale?.find((r) => r.lib === 'brama' && r.count === 100_000);
  if (at100k !== undefined) {
    out.push(
      check(
        'register-bytes',
        '≤ 600 bytes retained per registered connection at 100,000',
        at100k.bytesSamples,
        'bytes',
        (v) => v <= 600,
      ),
    );
    out.push(
      check(
        'register-time',
        '≤ 3 µs per registered connection at 100,000',
        at100k.nsSamples.map((ns) => ns / 1e3),
        'µs',
        (v) => v <= 3,
      ),
    );
  }
  if (results.fleet !== undefined) out.push(...fleetTargets(results.fleet));
  return out;
}
