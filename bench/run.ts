/**
 * The benchmark suite: brama against opossum and cockatiel in the same run (BENCHMARKS.md).
 *
 * Started by `npm run bench` through bench/launch.ts, which builds dist/, compiles this folder
 * and runs it with plain `node --expose-gc` against a snapshot of the built package.
 *
 * Flags: --quick (fewer, shorter rounds; prints only unless --write), --no-write (full run,
 * print only), --only=1,3,6,blocks (scenarios; `blocks`: the building-blocks appendix),
 * --out=FILE (default BENCHMARKS.md). Scenario 6 starts its own redis-server (bench/redis-server.ts)
 * and is reported as skipped when it cannot.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import type { Plan } from './harness.js';
import { renderRun, splice, type RunInfo, type Section } from './report.js';
import { closedCall } from './scenarios/closed.js';
import { failureWhileClosed, rejectionWhileOpen } from './scenarios/failures.js';
import { fleet, type FleetPlan, type FleetResults } from './scenarios/fleet.js';
import { reportApi } from './scenarios/report-api.js';
import { meteringCost, scrapeTime, type ScrapeResult } from './scenarios/metrics.js';
import { outcomeCost, policyMemory, type PolicyMemory } from './scenarios/policies.js';
import { primitives } from './scenarios/primitives.js';
import { scale, type ScaleRow } from './scenarios/scale.js';
import { throughput } from './scenarios/throughput.js';
import type { Table } from './table.js';
import { evaluateTargets } from './targets.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick');
const write = quick ? args.includes('--write') : !args.includes('--no-write');
const outFile = flag('out') ?? 'BENCHMARKS.md';
const only = new Set((flag('only') ?? '1,2,3,4,5,6,7,8,blocks').split(','));

if ((globalThis as { gc?: unknown }).gc === undefined) {
  throw new Error('run with node --expose-gc (npm run bench does)');
}

const MICRO: Plan = quick
  ? { rounds: 5, batchMs: 40, warmupMs: 150 }
  : { rounds: 20, batchMs: 200, warmupMs: 500 };
const THROUGHPUT: Plan = quick
  ? { rounds: 5, batchMs: 0, warmupMs: 300 }
  : { rounds: 20, batchMs: 0, warmupMs: 1_000 };
const CALLS_PER_WORKER = quick ? 40 : 60;
const SCALE_ROUNDS = quick ? 2 : 5;
const SCALE_COUNTS = [10_000, 100_000];
const FLEET: FleetPlan = {
  available: MICRO,
  capacity: quick
    ? { processes: 4, rounds: 3, windowMs: 500, warmupWindows: 1, perTick: 1_000 }
    : { processes: 4, rounds: 10, windowMs: 1_000, warmupWindows: 2, perTick: 1_000 },
  capacityConnections: { few: 10, many: 1_000 },
  inflight: quick
    ? { rounds: 5, calls: 3_200, warmupMs: 500, workers: 64 }
    : { rounds: 20, calls: 6_400, warmupMs: 1_500, workers: 64 },
  propagation: { trips: quick ? 30 : 200, loadConnections: 1_000 },
  outage: { processes: 4, workers: 8, rounds: quick ? 3 : 8, windowMs: 500 },
};

const require = createRequire(import.meta.url);
function versionOf(pkg: string): string {
  const json = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as {
    version: string;
  };
  return json.version;
}

function bramaRevision(): string {
  const atSnapshot = process.env.BRAMA_BENCH_REVISION;
  if (atSnapshot !== undefined && atSnapshot !== '') return atSnapshot;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} + uncommitted src/ changes`;
  } catch {
    return 'unknown revision';
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what os reports
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

const started = new Date();
const loadBefore = os.loadavg();
process.stderr.write(
  `brama bench (${quick ? 'quick' : 'full'}), load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`,
);

const sections: Section[] = [];
let closed: Table | undefined;
let failing: Table | undefined;
let open: Table | undefined;
let tp: Table | undefined;
let scaleRows: ScaleRow[] | undefined;
let fleetResults: FleetResults | undefined;
let policyTables: Table[] | undefined;
let policyBytes: PolicyMemory | undefined;
let meteringTables: Table[] | undefined;
let scrape: ScrapeResult | undefined;

if (only.has('1')) {
  closed = await closedCall(MICRO);
  sections.push({
    heading: '1. Closed circuit: an awaited call',
    intro:
      'Time per awaited call through a closed circuit, against the same call unprotected. Lower is better.',
    tables: [closed],
  });
}
if (only.has('2')) {
  sections.push({
    heading: '2. Report API: `isAvailable` + `success`',
    intro:
      'For callers that make the call themselves and report the outcome (brama only). Lower is better.',
    tables: [await reportApi(MICRO)],
  });
}
if (only.has('3')) {
  failing = await failureWhileClosed(MICRO);
  open = await rejectionWhileOpen(MICRO);
  sections.push({
    heading: '3. Failures: recorded while closed, refused while open',
    intro: 'Time per rejected call. Lower is better.',
    tables: [failing, open],
  });
}
if (only.has('4')) {
  tp = await throughput(THROUGHPUT, CALLS_PER_WORKER);
  sections.push({
    heading: '4. Throughput: 1,000 calls in flight, 1 ms latency',
    intro: 'Completed calls per second. Higher is better.',
    tables: [tp],
  });
}
if (only.has('5')) {
  scaleRows = await scale(SCALE_COUNTS, SCALE_ROUNDS);
  sections.push({
    heading: '5. Scale: 10,000 and 100,000 connections',
    intro:
      'Creating one connection (brama `register`) or one breaker per connection (peers). Lower is better.',
    tables: [],
    scale: scaleRows,
  });
}

if (only.has('6')) {
  const at = Date.now();
  fleetResults = await fleet(FLEET);
  process.stderr.write(`  6 fleet: ${((Date.now() - at) / 1e3).toFixed(0)} s\n`);
  sections.push({
    heading: '6. Fleet mode (Redis)',
    intro:
      'brama with the Redis store (`brama/redis`): the cost of `isAvailable` against the memory store (lower is better), how many reports per second a fleet sustains against one Redis and what each costs Redis (against the simplest commands), calls per second of one process with the Redis store against the memory store (higher is better), how soon another process sees a trip, and how many calls reach a dependency that goes down (lower is better).',
    tables: [],
    fleet: fleetResults,
  });
}

if (only.has('7')) {
  policyTables = await outcomeCost(MICRO);
  policyBytes = policyMemory(quick ? 2 : 5, 10_000);
  sections.push({
    heading: '7. Trip policies (memory store)',
    intro:
      "The time of one reported outcome under the `'rate'` policy against `'consecutive'` (lower is better), and the memory a connection holds with a 100-call window.",
    tables: [...policyTables, policyBytes.table],
  });
}

if (only.has('8')) {
  meteringTables = await meteringCost(MICRO);
  scrape = await scrapeTime(10_000, quick ? 5 : 20, 10);
  sections.push({
    heading: '8. Metrics (`brama/metrics`)',
    intro:
      'What an attached Prometheus exporter costs a report and a wrapped call (lower is better), and the time of one scrape of 10,000 connections.',
    tables: [...meteringTables, scrape.table],
  });
}

const appendix: Section[] = [];
if (only.has('blocks')) {
  appendix.push({
    heading: 'Appendix: building blocks',
    intro: 'What the steps of the hot paths cost on this machine, in this run. Lower is better.',
    tables: [await primitives(MICRO)],
  });
}

const targets = evaluateTargets({
  closed,
  failing,
  open,
  throughput: tp,
  scale: scaleRows,
  fleet: fleetResults,
  policies: policyTables,
  policyMemory: policyBytes,
  metrics: meteringTables,
  scrape,
});
const passThrough = args.filter((a) => a !== '--write').join(' ');
const info: RunInfo = {
  quick,
  command: `npm run bench${passThrough === '' ? '' : ` -- ${passThrough}`}`,
  nodeCommand: [
    'node',
    ...process.execArgv,
    path.relative(process.cwd(), fileURLToPath(import.meta.url)),
    ...args,
  ].join(' '),
  cpuModel: cpuModel(),
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  v8: process.versions.v8,
  versions: {
    brama: `${versionOf('brama')} (${bramaRevision()}, built dist/)`,
    opossum: versionOf('opossum'),
    cockatiel: versionOf('cockatiel'),
  },
  started: started.toISOString().replace(/\.\d+Z$/, 'Z'),
  durationS: (Date.now() - started.getTime()) / 1e3,
  loadBefore,
  loadAfter: os.loadavg(),
  plan: `${MICRO.rounds} rounds of ~${MICRO.batchMs} ms batches after ${MICRO.warmupMs} ms warm-up per subject (1–3); ${THROUGHPUT.rounds} rounds of ${(CALLS_PER_WORKER * 1_000).toLocaleString('en-US')} calls (4); ${SCALE_ROUNDS} child processes per library and count (5); ${FLEET.available.rounds} rounds of ~${FLEET.available.batchMs} ms, ${FLEET.capacity.rounds} rounds of ${FLEET.capacity.windowMs.toLocaleString('en-US')} ms fleet windows, ${FLEET.inflight.rounds} rounds of ${FLEET.inflight.calls.toLocaleString('en-US')} calls, ${FLEET.propagation.trips} trips, ${FLEET.outage.rounds} outages (6)`,
};

const generated = renderRun(info, targets, sections, appendix);
process.stdout.write(`${generated}\n`);
if (write) {
  const existing = existsSync(outFile) ? readFileSync(outFile, 'utf8') : null;
  const text = splice(existing, generated, '# Benchmarks\n\n@@GENERATED@@\n');
  // Formatted as the repository's prettier config wants it, so `prettier --check` stays green.
  const config = (await prettier.resolveConfig(outFile)) ?? {};
  writeFileSync(outFile, await prettier.format(text, { ...config, filepath: outFile }));
  process.stderr.write(`wrote ${outFile}\n`);
}
