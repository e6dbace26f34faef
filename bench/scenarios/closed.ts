/** Scenario 1: an awaited call through a closed circuit, against a raw `await fn()`. */
import { Brama } from 'brama';
import { value } from '../functions.js';
import { measure, type Plan, type Subject } from '../harness.js';
import { cockatiel, opossum } from '../peers.js';
import { tableOf, type Table } from '../table.js';

/** The same, declaring the AbortSignal that `run` offers. */
const withSignal = (_signal: AbortSignal): Promise<number> => value();

export const CLOSED_LABELS = [
  { key: 'raw', label: 'raw `await fn()`' },
  {
    key: 'floor',
    label: 'minimal hand-written wrapper `() => fn().then(ok, err)`, counting the outcome (floor)',
  },
  {
    key: 'floor.async',
    label:
      'the same as an async function `async () => { const v = await fn(); n++; return v; }` (context)',
  },
  { key: 'brama.wrap', label: 'brama `wrap(id, fn)` then `await wrapped()`' },
  { key: 'brama.run', label: "brama `await run('id', fn)`" },
  {
    key: 'brama.run+signal',
    label: "brama `await run('id', (signal) => fn())`, `fn` takes the signal (context)",
  },
  {
    key: 'brama.run+timeout',
    label: "brama `await run('id', fn, { timeout: 3_000 })` (context)",
  },
  { key: 'cockatiel', label: 'cockatiel `await policy.execute(fn)`' },
  { key: 'opossum', label: 'opossum `await breaker.fire()` (README options)' },
  {
    key: 'opossum-no-timeout',
    label: 'opossum `await breaker.fire()`, `timeout: false` (context)',
  },
] as const;

export async function closedCall(plan: Plan): Promise<Table> {
  const brama = new Brama();
  const wrapped = brama.wrap('closed-wrap', value);
  let seen = 0;
  const ok = (v: number): number => {
    seen++;
    return v;
  };
  const err = (e: unknown): never => {
    seen--;
    throw e;
  };
  const minimal = (): Promise<number> => value().then(ok, err);
  const minimalAsync = async (): Promise<number> => {
    const v = await value();
    seen++;
    return v;
  };
  const withTimeout = { timeout: 3_000 };
  const breaker = opossum(value);
  const breakerNoTimeout = opossum(value, { timeout: false });
  const policy = cockatiel();

  const subjects: Subject[] = [
    {
      name: 'raw',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await value();
        return s;
      },
    },
    {
      name: 'floor',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await minimal();
        return s;
      },
    },
    {
      name: 'floor.async',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await minimalAsync();
        return s;
      },
    },
    {
      name: 'brama.wrap',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await wrapped();
        return s;
      },
    },
    {
      name: 'brama.run',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await brama.run('closed-run', value);
        return s;
      },
    },
    {
      name: 'brama.run+signal',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await brama.run('closed-signal', withSignal);
        return s;
      },
    },
    {
      name: 'brama.run+timeout',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await brama.run('closed-timeout', value, withTimeout);
        return s;
      },
    },
    {
      name: 'cockatiel',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await policy.execute(value);
        return s;
      },
    },
    {
      name: 'opossum',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await breaker.fire();
        return s;
      },
    },
    {
      name: 'opossum-no-timeout',
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await breakerNoTimeout.fire();
        return s;
      },
    },
  ];

  const measured = await measure('1 closed call', subjects, plan);
  if (seen === 0) throw new Error('the minimal wrapper never ran');
  for (const b of [breaker, breakerNoTimeout]) b.shutdown();
  await brama.close();
  return tableOf('Closed circuit: one awaited call', measured, CLOSED_LABELS, {
    baseline: 'raw',
    notes: [
      '`fn` is `async () => 1`; each library calls it once per operation and the loop awaits the result.',
      'The minimal `then` wrapper is the floor for any promise-based wrapper that observes the outcome: one more promise and one more microtask per call than the raw call, and no bookkeeping at all. Written as an async function it costs one async frame more (the row below it).',
      'The two "context" rows for brama use documented options: a `fn` that declares a parameter gets the shared signal that never aborts (nothing can abort this call), and `timeout` adds a promise of its own and a deadline (one Node timer per timeout duration, not per call). With both a `timeout` and a `fn` that declares a parameter, each call also creates an `AbortController` and its signal (several µs on Node 20).',
      'opossum arms (and clears) a `setTimeout` per call for its `timeout` option, which its README sets; the `timeout: false` row shows opossum without it. The brama `timeout` row is the like-for-like comparison to opossum with a timeout.',
    ],
  });
}
