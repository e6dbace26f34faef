/**
 * Scenario 6, calls in flight: one process keeping 64 calls in flight through `brama.run`
 * around a 1 ms upstream, with the Redis store against the memory store (each store in its own
 * child process; rounds interleaved, ratios paired per round).
 */
import { progress, withChildren } from '../fleet-children.js';
import type { FleetChildConfig } from '../fleet-protocol.js';
import { pairedRatios } from '../stats.js';
import type { Row, Table } from '../table.js';

export interface InflightPlan {
  readonly rounds: number;
  /** Calls per timed batch. */
  readonly calls: number;
  readonly warmupMs: number;
  /** Calls kept in flight. */
  readonly workers: number;
}

const LABELS = [
  { key: 'memory', label: "memory store: `await run('id', fn)`" },
  { key: 'redis', label: "Redis store: `await run('id', fn)`, then `await store.flush()`" },
] as const;

export async function measureInflight(
  url: string,
  prefix: string,
  plan: InflightPlan,
): Promise<Table> {
  const configs: FleetChildConfig[] = LABELS.map(({ key }) => ({
    role: 'inflight',
    url,
    prefix: `${prefix}:inflight`,
    store: key,
    workers: plan.workers,
  }));
  return withChildren(configs, async (children) => {
    progress(`  6 fleet ${plan.workers} in flight: warm-up`);
    for (const child of children) {
      await child.call('warm', { n: plan.calls, warmupMs: plan.warmupMs });
      progress('.');
    }
    progress(' rounds ');
    const samples: number[][] = children.map(() => []);
    for (let round = 0; round < plan.rounds; round++) {
      for (let k = 0; k < children.length; k++) {
        const i = (round + k) % children.length;
        samples[i]!.push(await children[i]!.call<number>('batch', { n: plan.calls }));
      }
      progress(`${round + 1} `);
    }
    progress('\n');
    const rows = LABELS.map(({ key, label }, i): Row => ({
      key,
      label,
      samples: samples[i]!,
      ratio: key === 'memory' ? null : pairedRatios(samples[i]!, samples[0]!),
      ops: plan.calls,
    }));
    return {
      title: `One process, ${plan.workers} calls in flight, 1 ms upstream`,
      unit: 'calls/s',
      ratioLabel: 'x memory store',
      rows,
      notes: [
        `\`fn\` is \`() => new Promise((r) => setTimeout(r, 1, 1))\`; ${plan.workers} workers each await one call after another until the batch's calls are started; the batch ends when every call has settled (and, for the Redis store, \`await store.flush()\`: every report answered and applied).`,
        "Each store in its own child process, taking turns (one timed batch at a time, rotating order): the ratio is paired per round. The connection is closed and stays closed: every report takes the store's report path, coalesced per tick with the Redis store.",
      ],
    };
  });
}
