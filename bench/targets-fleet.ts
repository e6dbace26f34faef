/** Fleet mode's goals (issue 11), checked against scenario 6's results. */
import type { FleetResults } from './scenarios/fleet.js';
import type { Capacity, CapacityRow } from './scenarios/fleet-capacity.js';
import { pairedRatios } from './stats.js';
import { check, checkPercentile, row, skippedTarget, type TargetResult } from './target-checks.js';

const FLEET_GOALS = {
  available: '`isAvailable` with the Redis store ≤ 1.2x the memory store',
  few: 'fleet capacity, 4 processes × 10 connections: ≥ 0.5x the reports/s of pipelined `HINCRBY`',
  many: 'fleet capacity, 4 processes × 1,000 connections: ≥ 0.25x the reports/s of pipelined `HINCRBY`',
  redisCpu:
    'Redis CPU per report, one report per connection per flush: ≤ 3x a trivial one-`HINCRBY` `EVALSHA`',
  inflight: 'one fleet-mode process, 64 calls in flight, 1 ms upstream: ≥ 0.85x the memory store',
  idle: 'a trip seen by another process within 10 ms (p99), idle',
  busy: 'a trip seen by another process within 25 ms (p99), with a busy reporter',
  outage:
    'calls reaching a dependency that goes down, fleet-wide: ≤ `maxAttempts` + calls in flight at the trip + one trial per open period',
} as const;

/** Trip latencies of one series; a trip the observer never saw counts as infinitely late. */
function latencies(times: { remoteOpenMs: readonly number[]; lost: number }): number[] {
  return [...times.remoteOpenMs, ...Array<number>(times.lost).fill(Infinity)];
}

export function fleetTargets(fleet: FleetResults): TargetResult[] {
  const skipAll = (why: string): TargetResult[] =>
    Object.entries(FLEET_GOALS).map(([id, goal]) => skippedTarget(`fleet-${id}`, goal, '', why));
  if (fleet.skipped !== null) return skipAll(fleet.skipped);
  /** A target whose measurement failed: skipped, with what failed. */
  const failedOne = (id: keyof typeof FLEET_GOALS): TargetResult =>
    skippedTarget(`fleet-${id}`, FLEET_GOALS[id], '', `failed: ${(fleet.failed ?? []).join('; ')}`);
  const failed = (fleet.failed ?? []).length > 0;
  const out: TargetResult[] = [];
  if (fleet.available !== undefined) {
    out.push(
      check(
        'fleet-available',
        FLEET_GOALS.available,
        row(fleet.available, 'redis.closed').ratio ?? [],
        'x memory store',
        (v) => v <= 1.2,
      ),
    );
  } else if (failed) out.push(failedOne('available'));
  const brama = (c: Capacity): CapacityRow => {
    const found = c.rows.find((r) => r.key === 'brama');
    if (found === undefined) throw new Error('no brama row in the capacity results');
    return found;
  };
  const few = fleet.capacity?.few;
  if (few !== undefined) {
    out.push(
      check('fleet-few', FLEET_GOALS.few, brama(few).ratio ?? [], 'x HINCRBY', (v) => v >= 0.5),
    );
  } else if (failed) out.push(failedOne('few'));
  const many = fleet.capacity?.many;
  const script = many?.rows.find((r) => r.key === 'script');
  if (many !== undefined && script !== undefined) {
    out.push(
      check('fleet-many', FLEET_GOALS.many, brama(many).ratio ?? [], 'x HINCRBY', (v) => v >= 0.25),
      check(
        'fleet-redis-cpu',
        FLEET_GOALS.redisCpu,
        pairedRatios(brama(many).redisCpuUs, script.redisCpuUs),
        'x script',
        (v) => v <= 3,
      ),
    );
  } else if (failed) out.push(failedOne('many'), failedOne('redisCpu'));
  if (fleet.inflight !== undefined) {
    out.push(
      check(
        'fleet-inflight',
        FLEET_GOALS.inflight,
        row(fleet.inflight, 'redis').ratio ?? [],
        'x memory store',
        (v) => v >= 0.85,
      ),
    );
  } else if (failed) out.push(failedOne('inflight'));
  const p = fleet.propagation;
  if (p !== undefined) {
    out.push(
      checkPercentile(
        'fleet-idle',
        FLEET_GOALS.idle,
        latencies(p),
        0.99,
        'trips',
        'ms',
        (v) => v <= 10,
      ),
      checkPercentile(
        'fleet-busy',
        FLEET_GOALS.busy,
        latencies(p.loaded),
        0.99,
        'trips',
        'ms',
        (v) => v <= 25,
      ),
    );
  } else if (failed) out.push(failedOne('idle'), failedOne('busy'));
  if (fleet.outage !== undefined) {
    out.push(
      check(
        'fleet-outage',
        FLEET_GOALS.outage,
        fleet.outage.rounds.map((r) => r.measured / r.bound),
        'x bound',
        (v) => v <= 1,
      ),
    );
  } else if (failed) out.push(failedOne('outage'));
  return out;
}
