/**
 * brama demo: four simulated dependencies called through one registry, in real time.
 *
 *   inventory-api          healthy, ~5 ms
 *   payments/payments-db   flaky, ~25 % failures (seeded PRNG: same shape on every run)
 *   search-api             down hard from 3 s to 9 s, then recovers (progressive expiry)
 *   pricing-api            from 5 s to 10 s, one call in three fails (never twice in a row):
 *                          invisible to a consecutive-failure count, tripped by the failure
 *                          rate (tripPolicy 'rate'); called with `run`, and let back in
 *                          gradually after recovery (rampUpMs)
 *
 * It serves brama's live dashboard (brama/http) on 127.0.0.1 while it runs and prints the
 * address (port: BRAMA_DEMO_PORT, default any free one).
 *
 * Run with `npm run demo`; it ends by itself after ~13 s (`npm run demo -- --keep` keeps serving
 * the dashboard until Ctrl-C).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import process from 'node:process';
import { statusHandler } from '../src/http/index.js';
import {
  Brama,
  CircuitOpenError,
  type CircuitState,
  type ConnectionStatus,
  type TripRule,
} from '../src/index.js';

const RUN_MS = 13_000;
const TICK_MS = 50;
const SEARCH_DOWN = { from: 3_000, to: 9_000 };
const PRICING_BAD = { from: 5_000, to: 10_000 };

/** mulberry32: a tiny deterministic PRNG, so every run has the same shape. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const elapsed = (at = Date.now()): string => `${((at - started) / 1000).toFixed(2).padStart(6)}s`;

class SimulatedError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'SimulatedError';
  }
}

interface Dependency {
  readonly id: string;
  readonly scope?: string;
  readonly callsPerTick: number;
  /** The simulated remote call: resolves after some latency, or rejects. */
  readonly call: () => Promise<void>;
  /** Called through `brama.run` instead of the report API. */
  readonly viaRun?: boolean;
}

let pricingCalls = 0;

// One PRNG per dependency: the outcome of each admitted call does not depend on timing.
const [inventoryRandom, paymentsRandom, searchRandom] = [prng(1), prng(42), prng(3)];
const dependencies: readonly Dependency[] = [
  { id: 'inventory-api', callsPerTick: 3, call: () => sleep(4 + inventoryRandom() * 2) },
  {
    id: 'payments-db',
    scope: 'payments',
    callsPerTick: 2,
    call: async () => {
      // Every draw happens when the call starts, so admitted calls see the same sequence each run.
      const fails = paymentsRandom() < 0.25;
      const code = paymentsRandom() < 0.5 ? 'ETIMEDOUT' : 'deadlock';
      await sleep(8 + paymentsRandom() * 12);
      if (fails) throw new SimulatedError(code);
    },
  },
  {
    id: 'search-api',
    callsPerTick: 3,
    call: async () => {
      const t = Date.now() - started;
      if (t >= SEARCH_DOWN.from && t < SEARCH_DOWN.to) {
        await sleep(2); // refused fast: nothing is listening
        throw new SimulatedError('ECONNREFUSED');
      }
      await sleep(10 + searchRandom() * 10);
    },
  },
  {
    id: 'pricing-api',
    callsPerTick: 3,
    viaRun: true,
    call: async () => {
      const t = Date.now() - started;
      const fails = t >= PRICING_BAD.from && t < PRICING_BAD.to && pricingCalls++ % 3 === 2;
      await sleep(6);
      if (fails) throw new SimulatedError('HTTP 503');
    },
  },
];

const brama = new Brama({ maxAttempts: 3, expiry: 1_000 });
brama.register('inventory-api');
brama.register('payments-db', { scope: 'payments' });
brama.register('search-api', {
  expiryStrategy: 'progressive',
  initialExpiry: 500,
  maxExpiry: 4_000,
});
// Opens when 30 % of the calls of the last 2 s failed (once 20 calls are in).
brama.register('pricing-api', {
  tripPolicy: 'rate',
  failureRateThreshold: 0.3,
  window: { ms: 2_000 },
  minimumCalls: 20,
  rampUpMs: 1_000,
});

// The live dashboard of this registry (and its health, events and metrics) while the demo runs.
const KEEP = process.argv.includes('--keep');
const port = Number(process.env.BRAMA_DEMO_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(
    `BRAMA_DEMO_PORT must be a port number (0-65535), got ${process.env.BRAMA_DEMO_PORT}`,
  );
  process.exit(2);
}
const dashboard = statusHandler(brama, { critical: ['payments-db'] });
const server = http.createServer(dashboard);
try {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
} catch (error) {
  console.error(`brama demo: cannot serve the dashboard on 127.0.0.1:${port}: ${String(error)}`);
  process.exit(1);
}
const dashboardUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const nameOf = (id: string | null, scope: string | null): string =>
  scope === null ? String(id) : `${scope}/${String(id)}`;

// ANSI colours only on a terminal; padding is applied before painting so columns stay aligned.
const COLOURS: Record<CircuitState, string> = {
  unknown: '2',
  closed: '32',
  half_open: '33',
  open: '31',
};
const paint = (state: CircuitState, text: string): string =>
  process.stdout.isTTY ? `\x1b[${COLOURS[state]}m${text}\x1b[0m` : text;

const describe = (reason: unknown): string =>
  reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';

/** Which rule of the trip policy opened the circuit. */
const ruleText = (trip: TripRule | null): string => {
  if (trip === null) return '';
  switch (trip.rule) {
    case 'consecutive_failures':
      return `; ${trip.failures} failures in a row`;
    case 'failure_rate':
    case 'slow_call_rate':
      return `; ${trip.rule} ${(trip.rate * 100).toFixed(0)} % of ${trip.calls} calls ≥ ${trip.threshold * 100} %`;
    case 'retry_after':
      return `; retry after ${trip.retryAfterMs} ms`;
    case 'failed_trial':
      return '; the trial failed';
  }
};

brama.subscribe(
  (event) => {
    if (event.type !== 'state_change') return;
    const { from, to, cause, reason, status, trip } = event.data;
    const why = describe(reason);
    let line = `[${elapsed(event.timestamp)}] ${nameOf(event.identifier, event.scope).padEnd(22)}`;
    line += `${paint(from, from.padEnd(9))} → ${paint(to, to.padEnd(9))}  (${cause}${why ? `: ${why}` : ''}${ruleText(trip)})`;
    if (to === 'open' && status.openUntil !== null) {
      const secs = (status.openUntil - event.timestamp) / 1000;
      line += `  stays open ${secs.toFixed(1)}s, until ${elapsed(status.openUntil).trim()}`;
    }
    console.log(line);
  },
  { events: ['state_change'] },
);

const refused = new Map<string, number>();

/** The report API: ask before the call, report its outcome after. */
async function callThrough(dep: Dependency): Promise<void> {
  const opts = { scope: dep.scope ?? null };
  const refuse = (): void => {
    const key = nameOf(dep.id, opts.scope);
    refused.set(key, (refused.get(key) ?? 0) + 1);
  };
  if (dep.viaRun === true) {
    // The wrapper: admission, timing and the report in one call.
    try {
      await brama.run(dep.id, dep.call);
    } catch (error) {
      if (error instanceof CircuitOpenError) refuse(); // otherwise: the call failed, reported
    }
    return;
  }
  if (!brama.isAvailable(dep.id, opts)) return refuse();
  try {
    await dep.call();
    brama.success(dep.id, opts);
  } catch (error) {
    brama.failure(dep.id, { ...opts, reason: error instanceof Error ? error : String(error) });
  }
}

console.log(
  `brama demo: dashboard at ${dashboardUrl} (live while the demo runs` +
    `${KEEP ? ', and after it until Ctrl-C' : '; `npm run demo -- --keep` keeps it up'})`,
);
console.log(
  `brama demo: ${RUN_MS / 1000}s of traffic, a tick every ${TICK_MS} ms; ` +
    `search-api is down from ${SEARCH_DOWN.from / 1000}s to ${SEARCH_DOWN.to / 1000}s; ` +
    `pricing-api fails one call in three from ${PRICING_BAD.from / 1000}s to ${PRICING_BAD.to / 1000}s\n`,
);

while (Date.now() - started < RUN_MS) {
  const calls: Promise<void>[] = [sleep(TICK_MS)];
  for (const dep of dependencies) {
    for (let i = 0; i < dep.callsPerTick; i++) calls.push(callThrough(dep));
  }
  await Promise.all(calls);
}

const statuses = brama.list();
const rows = statuses.map((s: ConnectionStatus) => [
  nameOf(s.identifier, s.scope),
  s.state,
  String(s.failureCount),
  String(s.totalSuccesses),
  String(s.totalFailures),
  s.successRate === null ? '-' : `${(s.successRate * 100).toFixed(1)} %`,
  s.failureRate === null ? '-' : `${(s.failureRate * 100).toFixed(1)} %`,
  String(refused.get(nameOf(s.identifier, s.scope)) ?? 0),
  `${(s.timeSinceLastStateChange / 1000).toFixed(2)}s`,
]);
const header = [
  'connection',
  'state',
  'failures',
  'successes',
  'failed',
  'success',
  'window fail',
  'refused',
  'in state',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const format = (cells: readonly string[], state?: CircuitState): string =>
  cells
    .map((c, i) => {
      const padded = i === 0 || i === 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0);
      return i === 1 && state ? paint(state, padded) : padded;
    })
    .join('  ');

console.log(
  `\nafter ${elapsed().trim()} (failures = consecutive; window fail = failure rate of the 'rate' window; refused = calls not made):\n`,
);
console.log(format(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
rows.forEach((row, i) => console.log(format(row, statuses[i]?.state)));

if (KEEP) {
  console.log(`\nthe dashboard stays at ${dashboardUrl} until Ctrl-C`);
  process.once('SIGINT', () => {
    dashboard.close(); // ends the page's event stream, so the server can close
    server.close();
    void brama.close();
  });
} else {
  dashboard.close();
  server.close();
  await brama.close();
}
