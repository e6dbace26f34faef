/** The performance goals of the benchmark issues, checked against one run's results. */
import type { FleetResults } from './scenarios/fleet.js';
import type { ScaleRow } from './scenarios/scale.js';
import { pairedRatios } from './stats.js';
import type { Table } from './table.js';
import { check, row, type TargetResult } from './target-checks.js';
import { fleetTargets } from './targets-fleet.js';
import { policyTargets } from './targets-policies.js';
import { metricsTargets } from './targets-metrics.js';
import type { ScrapeResult } from './scenarios/metrics.js';
import type { PolicyMemory } from './scenarios/policies.js';

export type { TargetResult } from './target-checks.js';

export interface Results {
  readonly closed?: Table;
  /** Failure recorded while closed. */
  readonly failing?: Table;
  readonly open?: Table;
  readonly throughput?: Table;
  readonly scale?: readonly ScaleRow[];
  readonly fleet?: FleetResults;
  /** Scenario 7: time per outcome (successes, then one failure in four) and memory. */
  readonly policies?: readonly Table[];
  readonly policyMemory?: PolicyMemory;
  /** Scenario 8: reports with and without a Prometheus exporter, and one scrape. */
  readonly metrics?: readonly Table[];
  readonly scrape?: ScrapeResult;
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
  out.push(...policyTargets(results.policies, results.policyMemory));
  out.push(...metricsTargets(results.metrics, results.scrape));
  return out;
}
