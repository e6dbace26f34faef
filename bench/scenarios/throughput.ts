/** Scenario 4: throughput with 1,000 calls in flight, each with 1 ms of simulated latency. */
import { Brama } from 'brama';
import { slow } from '../functions.js';
import { measure, type Plan, type Subject } from '../harness.js';
import { cockatiel, opossum } from '../peers.js';
import { tableOf, type Table } from '../table.js';

export const CONCURRENCY = 1_000;

/**
 * A closed-loop load: `CONCURRENCY` workers, each awaiting one call after another, so that
 * `CONCURRENCY` calls are always in flight. A batch of `n` runs `n / CONCURRENCY` calls per worker.
 */
function driven(name: string, call: () => Promise<number>): Subject {
  return {
    name,
    batch: async (n) => {
      const perWorker = n / CONCURRENCY;
      let s = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < perWorker; i++) {
          const v = await call(); // not `s += await call()`: that reads `s` before awaiting
          s += v;
        }
      };
      const workers: Promise<void>[] = [];
      for (let w = 0; w < CONCURRENCY; w++) workers.push(worker());
      await Promise.all(workers);
      return s;
    },
  };
}

export const THROUGHPUT_LABELS = [
  { key: 'raw', label: 'raw `await fn()`' },
  { key: 'brama.wrap', label: 'brama `await wrapped()`' },
  { key: 'brama.run', label: "brama `await run('id', fn)`" },
  { key: 'cockatiel', label: 'cockatiel `await policy.execute(fn)`' },
  { key: 'opossum', label: 'opossum `await breaker.fire()` (README options)' },
] as const;

export async function throughput(plan: Plan, callsPerWorker: number): Promise<Table> {
  const brama = new Brama();
  const wrapped = brama.wrap('tp-wrap', slow);
  const breaker = opossum(slow);
  const policy = cockatiel();

  const subjects: Subject[] = [
    driven('raw', slow),
    driven('brama.wrap', wrapped),
    driven('brama.run', () => brama.run('tp-run', slow)),
    driven('cockatiel', () => policy.execute(slow)),
    driven('opossum', () => breaker.fire()),
  ];
  const measured = await measure('4 throughput', subjects, plan, CONCURRENCY * callsPerWorker);
  breaker.shutdown();
  await brama.close();
  return tableOf('Throughput, 1,000 calls in flight, 1 ms latency', measured, THROUGHPUT_LABELS, {
    baseline: 'raw',
    rate: true,
    notes: [
      `\`fn\` is \`() => new Promise((r) => setTimeout(r, 1, 1))\`; ${CONCURRENCY.toLocaleString('en-US')} workers each await ${callsPerWorker} calls in a row (${(CONCURRENCY * callsPerWorker).toLocaleString('en-US')} calls per round).`,
      'The ceiling is set by the timers: with 1,000 timers per millisecond the event loop spends most of its time in `setTimeout` and promise resolution, so per-call library overhead shows up diluted.',
    ],
  });
}
