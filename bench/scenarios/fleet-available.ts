/**
 * Scenario 6, `isAvailable`: the Redis store against the memory store, each in its own child
 * process, timed in interleaved rounds (paired ratios, as in scenarios 1–3).
 */
import { progress, withChildren, type Child } from '../fleet-children.js';
import type { FleetChildConfig } from '../fleet-protocol.js';
import type { Plan } from '../harness.js';
import { pairedRatios } from '../stats.js';
import type { Row, Table } from '../table.js';

export const AVAILABLE_LABELS = [
  { key: 'memory.closed', label: "memory store: `isAvailable('id')`, closed" },
  { key: 'redis.closed', label: "Redis store: `isAvailable('id')`, closed" },
  { key: 'memory.open', label: "memory store: `isAvailable('id')`, open (refused)" },
  { key: 'redis.open', label: "Redis store: `isAvailable('id')`, open (refused)" },
] as const;

export async function measureAvailable(url: string, prefix: string, plan: Plan): Promise<Table> {
  const configs: FleetChildConfig[] = [
    { role: 'available', url, prefix: `${prefix}:available`, store: 'memory' },
    { role: 'available', url, prefix: `${prefix}:available`, store: 'redis' },
  ];
  return withChildren(configs, async ([memory, redis]) => {
    const pairs = AVAILABLE_LABELS.map(({ key }) => {
      const [store, subject] = key.split('.') as [string, string];
      return { key, child: (store === 'memory' ? memory : redis) as Child, subject };
    });
    progress('  6 fleet isAvailable: warm-up');
    const ops: number[] = [];
    for (const p of pairs) {
      ops.push(
        await p.child.call<number>('calibrate', {
          subject: p.subject,
          warmupMs: plan.warmupMs,
          batchMs: plan.batchMs,
        }),
      );
      progress('.');
    }
    progress(' rounds ');
    const samples: number[][] = pairs.map(() => []);
    for (let round = 0; round < plan.rounds; round++) {
      for (let k = 0; k < pairs.length; k++) {
        const i = (round + k) % pairs.length;
        const p = pairs[i]!;
        samples[i]!.push(await p.child.call<number>('batch', { subject: p.subject, n: ops[i] }));
      }
      progress(`${round + 1} `);
    }
    progress('\n');
    const byKey = new Map<string, number[]>(pairs.map((p, i) => [p.key, samples[i]!]));
    const rows = AVAILABLE_LABELS.map(({ key, label }, i): Row => {
      const values = byKey.get(key)!;
      const base = key.startsWith('redis.')
        ? byKey.get(key.replace('redis.', 'memory.'))
        : undefined;
      return {
        key,
        label,
        samples: values,
        ratio: base === undefined ? null : pairedRatios(values, base),
        ops: ops[i]!,
      };
    });
    return {
      title: '`isAvailable`: Redis store against memory store',
      unit: 'ns/op',
      ratioLabel: 'x memory store',
      rows,
      notes: [
        'Each store in its own child process (`node --expose-gc`), as an application runs one store: a process that used both would make the store calls inside brama polymorphic (see the analysis below the generated part). The two processes take turns (one timed batch at a time, rotating order), so the ratios are paired per round like the other tables; the memory rows are the baseline of the Redis row below them.',
        'Both answer from the local view, with no I/O: `isAvailable` never waits for Redis. The Redis store is subscribed and idle while measured.',
      ],
    };
  });
}
