/** Issue 12's goals for the trip policies (scenario 7), checked against one run's results. */
import type { PolicyMemory } from './scenarios/policies.js';
import type { Table } from './table.js';
import { check, row, type TargetResult } from './target-checks.js';

export function policyTargets(
  outcome: readonly Table[] | undefined,
  memory: PolicyMemory | undefined,
): TargetResult[] {
  const out: TargetResult[] = [];
  for (const table of outcome ?? []) {
    const pattern = table.rows[0]!.key.split('.')[1]!;
    const what = pattern === 'success' ? 'a success' : 'an outcome (one failure in four)';
    for (const [key, window] of [
      ['rate-calls', '`{ calls: 100 }`'],
      ['rate-ms', '`{ ms: 10_000 }`'],
    ] as const) {
      out.push(
        check(
          `${key}-${pattern}`,
          `${what} under \`'rate'\`, ${window}, ≤ 1.3x \`'consecutive'\` (memory store)`,
          row(table, `${key}.${pattern}`).ratio ?? [],
          "x 'consecutive'",
          (v) => v <= 1.3,
        ),
      );
    }
  }
  if (memory !== undefined) {
    out.push(
      check(
        'rate-bytes',
        `≤ 1 KB per connection with a 100-call window (full, ${memory.count.toLocaleString('en-US')} connections)`,
        row(memory.table, 'rate-calls-100').samples,
        'bytes',
        (v) => v <= 1_024,
      ),
    );
  }
  return out;
}
