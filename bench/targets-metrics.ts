/** The goals of `brama/metrics` (scenario 8), checked against one run's results. */
import type { ScrapeResult } from './scenarios/metrics.js';
import type { Table } from './table.js';
import { check, row, type TargetResult } from './target-checks.js';

export function metricsTargets(
  cost: readonly Table[] | undefined,
  scrape: ScrapeResult | undefined,
): TargetResult[] {
  const out: TargetResult[] = [];
  for (const what of ['success', 'failure'] as const) {
    const table = cost?.find((t) => t.rows[0]?.key === `${what}.plain`);
    if (table === undefined) continue;
    out.push(
      check(
        `metrics-${what}`,
        `\`${what}('id')\` on a closed circuit with a Prometheus exporter attached ≤ 1.2x without (memory store)`,
        row(table, `${what}.prometheus`).ratio ?? [],
        'x no exporter',
        (v) => v <= 1.2,
      ),
    );
  }
  if (scrape !== undefined) {
    out.push(
      check(
        'metrics-scrape',
        `one \`metrics()\` scrape of ${scrape.count.toLocaleString('en-US')} connections ≤ 50 ms`,
        row(scrape.table, 'scrape').samples,
        'ms',
        (v) => v <= 50,
      ),
    );
  }
  return out;
}
