/**
 * Scenario 3: a failure recorded while the circuit stays closed, and a call refused while it is
 * open, each against an unprotected call that rejects with a pre-built error.
 */
import { Brama, CircuitOpenError } from 'brama';
import { BrokenCircuitError } from 'cockatiel';
import { BOOM, fail } from '../functions.js';
import { measure, type Plan, type Subject } from '../harness.js';
import { cockatiel, NEVER_TRIPS, ONE_HOUR, opossum } from '../peers.js';
import { tableOf, type Table } from '../table.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `await call()` in a loop, counting rejections that satisfy `expected`. Every 256 calls the
 * loop lets the event loop turn, as a server's would between requests: Node settles its
 * unhandled-rejection bookkeeping only then, and a batch that never yields piles it up.
 */
function rejecting(
  name: string,
  call: () => Promise<number>,
  expected: (e: unknown) => boolean,
): Subject {
  return {
    name,
    batch: async (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        if ((i & 255) === 255) await turn();
        try {
          await call();
        } catch (e) {
          if (expected(e)) s++;
        }
      }
      return s;
    },
  };
}

const isBoom = (e: unknown): boolean => e === BOOM;

export const CLOSED_FAILURE_LABELS = [
  { key: 'raw', label: 'raw `await fn()` rejecting (pre-built error)' },
  { key: 'brama.wrap', label: 'brama `await wrapped()`, `maxAttempts` never reached' },
  { key: 'brama.run', label: "brama `await run('id', fn)`, `maxAttempts` never reached" },
  { key: 'cockatiel', label: 'cockatiel `execute(fn)`, `ConsecutiveBreaker(MAX_SAFE_INTEGER)`' },
  {
    key: 'opossum',
    label: 'opossum `fire()`, `errorThresholdPercentage: 100`, `rollingPercentilesEnabled: false`',
  },
] as const;

export const OPEN_LABELS = [
  { key: 'raw', label: 'raw `await fn()` rejecting (pre-built error)' },
  { key: 'brama.wrap', label: 'brama `await wrapped()` refused (`CircuitOpenError`)' },
  { key: 'brama.run', label: "brama `await run('id', fn)` refused (`CircuitOpenError`)" },
  { key: 'cockatiel', label: 'cockatiel `execute(fn)` refused (`BrokenCircuitError`)' },
  { key: 'opossum', label: 'opossum `fire()` refused (`Breaker is open`)' },
] as const;

export async function failureWhileClosed(plan: Plan): Promise<Table> {
  const brama = new Brama();
  brama.register('fail-run', { maxAttempts: NEVER_TRIPS });
  const wrapped = brama.wrap('fail-wrap', fail, { maxAttempts: NEVER_TRIPS });
  // With its default rolling percentiles, opossum sorts every latency of its 10 s window on each
  // failure (`Status#stats`): the cost per failure grows with the call rate, and a tight loop
  // never reaches a steady state. Measured without them; the default is probed separately below.
  const breaker = opossum(fail, {
    errorThresholdPercentage: 100,
    rollingPercentilesEnabled: false,
  });
  const policy = cockatiel(NEVER_TRIPS);

  const subjects: Subject[] = [
    rejecting('raw', fail, isBoom),
    rejecting('brama.wrap', wrapped, isBoom),
    rejecting('brama.run', () => brama.run('fail-run', fail), isBoom),
    rejecting('cockatiel', () => policy.execute(fail), isBoom),
    rejecting('opossum', () => breaker.fire(), isBoom),
  ];
  const measured = await measure('3a failure while closed', subjects, plan);
  if (!breaker.closed || brama.status('fail-run').state !== 'closed') {
    throw new Error('a circuit opened during the failure-while-closed scenario');
  }
  breaker.shutdown();
  await brama.close();
  const probe = await opossumWindowProbe([1_000, 10_000]);
  return tableOf('Failure recorded while closed', measured, CLOSED_FAILURE_LABELS, {
    baseline: 'raw',
    notes: [
      'Every library records the failure and re-throws the same pre-built error; every threshold is set so the circuit never opens (checked after the run).',
      'Rejections are expensive in Node itself (its unhandled-rejection tracking runs for every rejected promise): that is most of the raw time. Every loop here yields to the event loop every 256 calls (`setImmediate`), as a server does between requests.',
      `opossum with its default options (\`rollingPercentilesEnabled: true\`) recomputes its rolling statistics on every failure, concatenating and sorting every latency recorded in the last 10 s: its cost per failure grows with the number of calls in that window, so a tight loop never settles. Probed once in a fresh breaker: ${probe}. The table row therefore uses \`rollingPercentilesEnabled: false\`.`,
    ],
  });
}

/** opossum with default rolling percentiles: µs per failure once `fill` failures are in its window. */
async function opossumWindowProbe(fills: readonly number[]): Promise<string> {
  const breaker = opossum(fail, { errorThresholdPercentage: 100 });
  const sample = 200;
  let done = 0;
  const out: string[] = [];
  const fire = async (): Promise<void> => {
    await breaker.fire().catch((e: unknown) => {
      if (e !== BOOM) throw e;
    });
    done++;
  };
  for (const fill of fills) {
    while (done < fill - sample) await fire();
    const start = process.hrtime.bigint();
    while (done < fill) await fire();
    const us = Number(process.hrtime.bigint() - start) / sample / 1e3;
    out.push(
      `${us.toFixed(0)} µs per failure at ${fill.toLocaleString('en-US')} failures in the window`,
    );
  }
  breaker.shutdown();
  return out.join(', ');
}

export async function rejectionWhileOpen(plan: Plan): Promise<Table> {
  const brama = new Brama();
  brama.register('open-run');
  brama.openCircuit('open-run', { expiry: ONE_HOUR });
  const wrapped = brama.wrap('open-wrap', fail);
  brama.register('open-wrap');
  brama.openCircuit('open-wrap', { expiry: ONE_HOUR });
  const breaker = opossum(fail, { resetTimeout: ONE_HOUR });
  breaker.open();
  const policy = cockatiel(1, ONE_HOUR);
  await policy.execute(fail).catch(() => undefined); // one failure trips ConsecutiveBreaker(1)

  const isRefusal = (e: unknown): boolean => e instanceof CircuitOpenError;
  const subjects: Subject[] = [
    rejecting('raw', fail, isBoom),
    rejecting('brama.wrap', wrapped, isRefusal),
    rejecting('brama.run', () => brama.run('open-run', fail), isRefusal),
    rejecting(
      'cockatiel',
      () => policy.execute(fail),
      (e) => e instanceof BrokenCircuitError,
    ),
    rejecting(
      'opossum',
      () => breaker.fire(),
      (e) => (e as { code?: unknown }).code === 'EOPENBREAKER',
    ),
  ];
  const measured = await measure('3b rejection while open', subjects, plan);
  breaker.shutdown();
  await brama.close();
  return tableOf('Rejection while open', measured, OPEN_LABELS, {
    baseline: 'raw',
    notes: [
      '`fn` is never called while the circuit is open; every rejection is checked to be the library’s open-circuit error.',
      'brama builds one real `CircuitOpenError` per open period and gives each refused caller its own small object inheriting from it (its own `retryAfterMs`), without a stack trace; opossum builds a new `Error` with a stack for every refusal.',
    ],
  });
}
