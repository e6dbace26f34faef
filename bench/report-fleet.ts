/** Renders scenario 6 (fleet mode) for the generated part of BENCHMARKS.md. */
import { FAILURE_PASS_EVERY, MEMBER_COMMAND_TIMEOUT_MS, OUTAGE_OPTIONS } from './fleet-protocol.js';
import { num, range, renderTable } from './render.js';
import type { FleetResults } from './scenarios/fleet.js';
import type { Capacity } from './scenarios/fleet-capacity.js';
import type { Outage } from './scenarios/fleet-outage.js';
import { SEE_TIMEOUT_MS } from './scenarios/fleet-propagation.js';
import { percentile, summarize } from './stats.js';

const int = (v: number): string =>
  Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

function renderCapacity(c: Capacity): string {
  const lines = [
    '| | median reports/s (fleet) | p25–p75 | min–max | x `HINCRBY` (median) | ratio min–max | Redis CPU µs per report | Node main thread CPU µs per report |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of c.rows) {
    const s = summarize(r.rate);
    const ratio =
      r.ratio === null
        ? '1 (baseline) | '
        : `**${num(summarize(r.ratio).median, 'x')}** | ${range(summarize(r.ratio), 'x', 'min', 'max')}`;
    lines.push(
      `| ${r.label} | ${num(s.median, 'calls/s')} | ${range(s, 'calls/s', 'p25', 'p75')} | ${range(s, 'calls/s', 'min', 'max')} | ${ratio} | ${num(summarize(r.redisCpuUs).median, 'µs')} | ${num(summarize(r.mainCpuUs).median, 'µs')} |`,
    );
  }
  const perConnection = c.perTick / c.connections;
  const rounds = c.rows[0]?.rate.length ?? 0;
  const notes = [
    `${rounds} rounds; in each, every subject has one ${c.windowMs.toLocaleString('en-US')} ms window in which all ${c.processes} processes (child processes, \`node --expose-gc\`, one Brama each) run it at once, in rotating order: the ratio is paired per round. Reports/s is the sum over the processes of what each completed over its window.`,
    `Each process issues ${c.perTick.toLocaleString('en-US')} operations per tick over the ${c.connections.toLocaleString('en-US')} connections in turn (${perConnection >= 1 ? `${int(perConnection)} per connection and tick` : 'fewer than one per connection and tick'}), then awaits them all (brama: \`await store.flush()\`, every reply applied to its local view; the baselines: \`await Promise.all(replies)\`), and starts the next tick. The ${c.processes} processes share the connections (one prefix, as a fleet shares its circuits: each sees the others' announcements); the baselines increment one counter per connection. brama: one pass over the connections in ${FAILURE_PASS_EVERY} is all \`failure\`s, the others \`success\`es; \`maxAttempts\` is never reached. The connections are registered and closed once before the warm-up, and the stores have \`commandTimeout: ${MEMBER_COMMAND_TIMEOUT_MS}\` (default 1,000): saturated on purpose, a member can wait close to a second for the first answer of a tick, and the default watchdog would put the store in degraded mode mid-measurement (see the analysis).`,
    `Checked after every window: the totals in Redis (brama) or the counters (baselines) grew by exactly the reports made. ${c.mismatches.length === 0 ? 'Windows where they did not: none.' : `**Windows where they did not: ${c.mismatches.join('; ')}.**`}`,
    "CPU per report (medians over rounds): the Redis server (`used_cpu_user` + `used_cpu_sys` of `INFO cpu`, read before and after each window, divided by the fleet's reports); each process's main thread, which runs the event loop (`/proc/thread-self/stat`, 10 ms ticks), averaged over the processes.",
  ];
  return `### Fleet capacity: ${c.processes} processes × ${c.connections.toLocaleString('en-US')} connections\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}

function renderPropagation(f: FleetResults): string {
  const p = f.propagation;
  if (p === undefined) return '';
  const busy = `busy: a third process reports ${num(p.loaded.reportsPerSecond, 'calls/s')}/s`;
  const line = (label: string, fleet: string, values: readonly number[]): string =>
    `| ${label} | ${fleet} | ${ms(percentile(values, 0.5))} | ${ms(percentile(values, 0.9))} | ${ms(percentile(values, 0.99))} | ${ms(Math.max(...values))} | ${values.length} |`;
  const rows = [
    [
      "another process sees the trip: `failure('id')` here → `circuit_opened` (origin `remote`) there",
      'remoteOpenMs',
    ],
    [
      "this process sees its own trip: `failure('id')` → `circuit_opened` (origin `local`)",
      'localOpenMs',
    ],
    [
      "another process sees the reset: `closeCircuit('id')` here → `circuit_closed` (origin `remote`) there",
      'remoteCloseMs',
    ],
    ['context: a `PING` from this process to Redis and back, before each trip', 'pingMs'],
  ] as const;
  const lines = [
    '| from this process | fleet | p50 ms | p90 ms | p99 ms | max ms | trips seen |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(([label, key]) => line(label, 'idle', p[key])),
    ...rows.map(([label, key]) => line(label, busy, p.loaded[key])),
  ];
  const notes = [
    `${p.trips} trips per series. The connection has \`maxAttempts: 1\` and a one-hour \`expiry\`, so one \`failure\` opens it; after each trip this process closes it again (\`closeCircuit\`) and waits until both processes have seen it closed. It idles ${p.gapMs} ms before each step.`,
    'The observer is a separate child process (`child_process.fork`) with its own Redis store (own clients and subscription) on the same prefix. It timestamps each event in its handler; both processes read `performance.timeOrigin + performance.now()`, the same host clock.',
    `Idle: nothing else runs. Busy: the same trips while a third process reports as fast as it can on ${p.loadConnections.toLocaleString('en-US')} connections of its own prefix, one report per connection and tick (the capacity loop above with nothing to coalesce: the most script calls per report), then \`await store.flush()\`, for the whole series: Redis and both cores are busy.`,
    `Clock check: the fastest of 50 IPC round trips took ${ms(p.ipcRttMs)} ms and put the observer's clock ${ms(p.clockOffsetMs)} ms from this one (within ±${ms(p.ipcRttMs / 2)} ms: no correction applied).`,
    `Trips the observer did not see within ${SEE_TIMEOUT_MS / 1000} s: ${p.lost} idle, ${p.loaded.lost} busy (they count as infinitely late in the targets). Events seen with the wrong origin, or with \`isAvailable\` still true in the observer's handler: ${p.anomalies + p.loaded.anomalies}.`,
  ];
  return `### Propagation of a trip to another process\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}

function renderOutage(o: Outage): string {
  const lines = [
    '| round | reached it before the circuit opened (of which after the first process saw it open) | trials after it opened | in flight at T | in flight at the trip | open periods | bound | measured | x bound | first / last process saw it open (ms after T) | failures one process saw before it saw it open (fewest–most) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  o.rounds.forEach((r, i) => {
    lines.push(
      `| ${i + 1} | ${r.tripPhase} (${r.afterFirstOpen}) | ${r.openPhase} | ${r.inFlightAtT} | ${r.inFlightAtTrip} | ${r.openings} | ${r.bound} | **${r.measured}** | ${num(r.measured / r.bound, 'x')} | ${ms(r.firstOpenMs)} / ${ms(r.allOpenMs)} | ${r.failuresBeforeOpen[0]}–${r.failuresBeforeOpen[1]} |`,
    );
  });
  const never = o.rounds.reduce((s, r) => s + r.neverOpened, 0);
  const { maxAttempts, expiry, halfOpenProbes } = OUTAGE_OPTIONS;
  const notes = [
    `${o.processes} processes (one Brama each, Redis store, one prefix) call one connection through \`run\`, ${o.workers} calls in flight each (${o.processes * o.workers} fleet-wide), 1 ms per call (\`setTimeout\`); a refused call waits 1 ms before the next. Connection: \`maxAttempts: ${maxAttempts}\`, fixed \`expiry: ${expiry}\` ms, \`halfOpenProbes: ${halfOpenProbes}\`; a fresh one per round (after one unreported round).`,
    `At T (200 ms after the calls start) the dependency starts failing every call it answers, calls in flight included, for ${o.windowMs} ms. Counted fleet-wide: calls that reach it at or after T before their own process sees the circuit open (\`circuit_opened\`, any origin), and calls that reach it after that (half-open trials) until the window ends.`,
    `Bound: \`maxAttempts\` + the calls in flight (fleet-wide) when the first process saw the circuit open + \`halfOpenProbes\` per open period in the window (the connection's \`openings\` in Redis at the end). A single process with the memory store stays within it: after the trip it admits nothing but trials. "Of which after the first process saw it open": calls the other processes let through while the trip travelled to them.`,
    `Processes that never saw the circuit open within a window: ${never}.`,
  ];
  return `### A dependency that goes down\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}

export function renderFleet(f: FleetResults): string {
  if (f.skipped !== null) return `**Skipped**: ${f.skipped}.\n`;
  const parts: string[] = [
    `Against ${f.redis}, on the machine above: loopback TCP, and Redis shares the CPU cores with the Node processes.\n`,
  ];
  if (f.available !== undefined) parts.push(renderTable(f.available));
  for (const c of [f.capacity?.few, f.capacity?.many])
    if (c !== undefined) parts.push(renderCapacity(c));
  if (f.inflight !== undefined) parts.push(renderTable(f.inflight));
  parts.push(renderPropagation(f));
  if (f.outage !== undefined) parts.push(renderOutage(f.outage));
  for (const why of f.failed ?? []) parts.push(`**Failed**: ${why}.\n`);
  return parts.join('\n');
}
