/** The performance goals of the benchmark issue, checked against one run's results. */
import type { ScaleRow } from './scenarios/scale.js';
import { pairedRatios, summarize, type Summary } from './stats.js';
import type { Row, Table } from './table.js';

export interface TargetResult {
  readonly id: string;
  readonly goal: string;
  /** The measured value (median over rounds) and its spread, in `unit`. */
  readonly measured: Summary;
  readonly unit: string;
  /** Rounds in which the goal held, out of all rounds. */
  readonly roundsMet: number;
  readonly met: boolean;
}

export interface Results {
  readonly closed?: Table;
  readonly open?: Table;
  readonly throughput?: Table;
  readonly scale?: readonly ScaleRow[];
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

export function evaluateTargets(results: Results): TargetResult[] {
  const out: TargetResult[] = [];
  const apis = [
    ['brama.wrap', '`wrap`'],
    ['brama.run', '`run`'],
  ] as const;
  const { closed, open, throughput, scale } = results;
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
          `${api} call ≥ 2x faster than cockatiel`,
          pairedRatios(row(closed, 'cockatiel').samples, brama.samples),
          'x faster',
          (v) => v >= 2,
        ),
      );
      out.push(
        check(
          `${key}-opossum`,
          `${api} call ≥ 10x faster than opossum`,
          pairedRatios(row(closed, 'opossum').samples, brama.samples),
          'x faster',
          (v) => v >= 10,
        ),
      );
    }
  }
  if (open !== undefined) {
    for (const [key, api] of apis) {
      out.push(
        check(
          `${key}-open`,
          `${api} rejection while open ≤ 1.5x an unprotected pre-built rejection`,
          row(open, key).ratio ?? [],
          'x raw',
          (v) => v <= 1.5,
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
  return out;
}
