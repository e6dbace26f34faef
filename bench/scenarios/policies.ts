/**
 * Scenario 7: trip policies (memory store). The time of one reported outcome under the `'rate'`
 * policy (a count window and a time window) against the `'consecutive'` policy, for a healthy
 * dependency (successes only) and a flaky one that stays below the thresholds (one failure in
 * four); and the memory one connection holds with a 100-call window, against one without.
 */
import { Brama, type BramaOptions } from 'brama';
import { measure, type Plan, type Subject } from '../harness.js';
import { NEVER_TRIPS } from '../peers.js';
import { tableOf, type Table } from '../table.js';

const POLICIES = [
  { key: 'consecutive', label: "`'consecutive'` (`maxAttempts` never reached)", options: {} },
  {
    key: 'rate-calls',
    label: "`'rate'`, `window: { calls: 100 }`, `minimumCalls: 10`",
    options: { tripPolicy: 'rate', window: { calls: 100 } },
  },
  {
    key: 'rate-ms',
    label: "`'rate'`, `window: { ms: 10_000 }`, `minimumCalls: 10`",
    options: { tripPolicy: 'rate', window: { ms: 10_000 } },
  },
] as const satisfies readonly { key: string; label: string; options: BramaOptions }[];

/** Every policy on its own registry; none ever trips (25 % failures stay below 50 %). */
function registry(options: BramaOptions): Brama {
  const brama = new Brama({
    cleanupInterval: 0,
    maxAttempts: NEVER_TRIPS,
    failureRateThreshold: 0.5,
    minimumCalls: 10,
    ...options,
  });
  brama.register('api');
  brama.success('api'); // closed, not unknown
  return brama;
}

/** `success('api')` n times. */
function successes(name: string, brama: Brama): Subject {
  return {
    name,
    batch: (n) => {
      for (let i = 0; i < n; i++) brama.success('api');
      return brama.status('api').state === 'closed' ? n : 0;
    },
  };
}

/** One `failure('api')` then three `success('api')`, n outcomes in all. */
function mixed(name: string, brama: Brama): Subject {
  return {
    name,
    batch: (n) => {
      for (let i = 0; i < n; i++) {
        if ((i & 3) === 0) brama.failure('api');
        else brama.success('api');
      }
      return brama.status('api').state === 'closed' ? n : 0;
    },
  };
}

export async function outcomeCost(plan: Plan): Promise<Table[]> {
  const tables: Table[] = [];
  for (const [pattern, make, title] of [
    ['success', successes, "Time per `success('api')` on a closed circuit"],
    ['mixed', mixed, "Time per outcome, `failure('api')` then three `success('api')`"],
  ] as const) {
    const subjects = POLICIES.map((p) => make(`${p.key}.${pattern}`, registry(p.options)));
    const measured = await measure(`7 policies, ${pattern}`, subjects, plan);
    const table = tableOf(
      title,
      measured,
      POLICIES.map((p) => ({ key: `${p.key}.${pattern}`, label: p.label })),
      { baseline: `consecutive.${pattern}`, unit: 'ns/op' },
    );
    tables.push({ ...table, ratioLabel: "x `'consecutive'`" });
  }
  return tables;
}

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Heap plus ArrayBuffer memory (a count window's ring is an ArrayBuffer's backing store). */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Bytes retained per connection: `count` connections registered in a fresh registry, each with
 * `outcomes` successes reported (so a `'rate'` window exists), measured after a full GC.
 */
function bytesPerConnection(options: BramaOptions, count: number, outcomes: number): number {
  gc();
  gc();
  const before = used();
  const brama = new Brama({ cleanupInterval: 0, ...options });
  for (let i = 0; i < count; i++) {
    const id = `connection-${i}`;
    brama.register(id);
    for (let k = 0; k < outcomes; k++) brama.success(id);
  }
  gc();
  gc();
  const bytes = (used() - before) / count;
  if (brama.list().length !== count) throw new Error('connections lost');
  void brama.close();
  return bytes;
}

export interface PolicyMemory {
  readonly count: number;
  readonly table: Table;
}

/** Memory per connection with and without a 100-call window, `rounds` times each. */
export function policyMemory(rounds: number, count: number): PolicyMemory {
  const subjects = [
    { key: 'consecutive', label: "`'consecutive'`", options: {}, outcomes: 1 },
    {
      key: 'rate-calls-1',
      label: "`'rate'`, `window: { calls: 100 }`, 1 outcome each",
      options: { tripPolicy: 'rate', window: { calls: 100 } },
      outcomes: 1,
    },
    {
      key: 'rate-calls-100',
      label: "`'rate'`, `window: { calls: 100 }`, 100 outcomes each (window full)",
      options: { tripPolicy: 'rate', window: { calls: 100 } },
      outcomes: 100,
    },
    {
      key: 'rate-ms',
      label: "`'rate'`, `window: { ms: 10_000 }`, 1 outcome each",
      options: { tripPolicy: 'rate', window: { ms: 10_000 } },
      outcomes: 1,
    },
  ] as const satisfies readonly {
    key: string;
    label: string;
    options: BramaOptions;
    outcomes: number;
  }[];
  const samples = new Map<string, number[]>(subjects.map((s) => [s.key, []]));
  process.stderr.write(`  7 policies, memory: ${rounds} rounds of ${count} connections\n`);
  for (let r = 0; r < rounds; r++) {
    // A rotating order, as in the timed scenarios.
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[(k + r) % subjects.length]!;
      samples.get(s.key)!.push(bytesPerConnection(s.options, count, s.outcomes));
    }
  }
  const base = samples.get('consecutive')!;
  return {
    count,
    table: {
      title: `Bytes retained per connection (${count.toLocaleString('en-US')} connections, heap + ArrayBuffers)`,
      unit: 'bytes',
      ratioLabel: "x `'consecutive'`",
      rows: subjects.map((s) => {
        const values = samples.get(s.key)!;
        return {
          key: s.key,
          label: s.label,
          samples: values,
          ratio: s.key === 'consecutive' ? null : values.map((v, i) => v / base[i]!),
          ops: count,
        };
      }),
      notes: [],
    },
  };
}
