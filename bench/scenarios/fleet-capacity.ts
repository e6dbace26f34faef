/**
 * Scenario 6, fleet capacity: `processes` child processes share `connections` connections (one
 * prefix) and report outcomes on them as fast as they can, all at once, for a timed window;
 * then the same processes send one pipelined `HINCRBY` per report, or one trivial `EVALSHA`
 * per report, to the same Redis. Subjects take turns in rotating order, one window each per
 * round, so ratios are paired per round. Redis CPU per report comes from `INFO cpu` of the
 * bench's own server, read before and after each window.
 */
import { Redis } from 'ioredis';
import { progress, withChildren } from '../fleet-children.js';
import {
  connectionIds,
  counterKey,
  stateKey,
  type FleetChildConfig,
  type ReportWindow,
} from '../fleet-protocol.js';
import { redisCpuSeconds } from '../redis-server.js';
import { pairedRatios } from '../stats.js';

export type CapacitySubject = 'brama' | 'hincrby' | 'script';

export const CAPACITY_LABELS: Record<CapacitySubject, string> = {
  brama:
    'brama `success` / `failure` with the Redis store, then `await store.flush()` (reports coalesced per connection and tick)',
  hincrby: 'pipelined `HINCRBY`, one per report (the one-command floor)',
  script: "a trivial `EVALSHA` per report (a script doing one `HINCRBY`: a script call's floor)",
};

export interface CapacityPlan {
  readonly processes: number;
  readonly rounds: number;
  /** Length of one timed window (every process reports for that long). */
  readonly windowMs: number;
  /** Untimed windows per subject before the rounds. */
  readonly warmupWindows: number;
  /** Operations per tick per process before awaiting them. */
  readonly perTick: number;
}

export interface CapacityRow {
  readonly key: CapacitySubject;
  readonly label: string;
  /** Reports per second of the whole fleet, one value per round. */
  readonly rate: readonly number[];
  /** Per-round ratio to the `HINCRBY` rate (`null` for that row). */
  readonly ratio: readonly number[] | null;
  /** Redis CPU µs per report, one value per round. */
  readonly redisCpuUs: readonly number[];
  /** Node main-thread CPU µs per report (mean over the processes), one value per round. */
  readonly mainCpuUs: readonly number[];
}

export interface Capacity {
  readonly processes: number;
  readonly connections: number;
  readonly perTick: number;
  readonly windowMs: number;
  readonly rows: readonly CapacityRow[];
  /** Windows whose count in Redis differed from the reports the processes made (should be 0). */
  readonly mismatches: readonly string[];
}

/** What Redis counted for a subject: brama's totals, or the baselines' counters. */
async function countIn(
  client: Redis,
  prefix: string,
  ids: readonly string[],
  subject: CapacitySubject,
): Promise<number> {
  const pipeline = client.pipeline();
  for (const id of ids) {
    if (subject === 'brama')
      pipeline.hmget(stateKey(prefix, id), 'totalSuccesses', 'totalFailures');
    else pipeline.hget(counterKey(prefix, id), 'n');
  }
  let sum = 0;
  for (const [error, value] of (await pipeline.exec()) ?? []) {
    if (error !== null) throw error;
    for (const v of Array.isArray(value) ? value : [value]) sum += Number(v ?? 0);
  }
  return sum;
}

export async function measureCapacity(
  url: string,
  prefix: string,
  plan: CapacityPlan,
  connections: number,
  subjects: readonly CapacitySubject[],
): Promise<Capacity> {
  const shared = `${prefix}:capacity-${connections}`;
  const config: FleetChildConfig = {
    role: 'member',
    url,
    prefix: shared,
    connections,
    perTick: plan.perTick,
  };
  const ids = connectionIds(connections);
  const monitor = new Redis(url);
  const mismatches: string[] = [];
  try {
    return await withChildren(Array(plan.processes).fill(config), async (members) => {
      const window = async (subject: CapacitySubject) => {
        const counted = await countIn(monitor, shared, ids, subject);
        const cpuBefore = await redisCpuSeconds(monitor);
        const windows = await Promise.all(
          members.map((m) => m.call<ReportWindow>('window', { subject, ms: plan.windowMs })),
        );
        const cpu = (await redisCpuSeconds(monitor)) - cpuBefore;
        const reports = windows.reduce((s, w) => s + w.reports, 0);
        const seen = (await countIn(monitor, shared, ids, subject)) - counted;
        if (seen !== reports)
          mismatches.push(`${subject}: ${reports} reports made, ${seen} counted in Redis`);
        return {
          rate: windows.reduce((s, w) => s + (w.reports * 1e9) / w.ns, 0),
          redisCpuUs: (cpu * 1e6) / reports,
          mainCpuUs: windows.reduce((s, w) => s + w.mainCpuUs, 0) / windows.length,
        };
      };
      const label = `  6 fleet capacity, ${plan.processes} processes × ${connections} connections`;
      progress(`${label}: warm-up`);
      for (const subject of subjects) {
        for (let w = 0; w < plan.warmupWindows; w++) await window(subject);
        progress('.');
      }
      mismatches.length = 0; // warm-up windows are checked, but only the measured ones reported
      progress(' rounds ');
      const results = subjects.map(() => ({
        rate: [] as number[],
        redisCpuUs: [] as number[],
        mainCpuUs: [] as number[],
      }));
      for (let round = 0; round < plan.rounds; round++) {
        for (let k = 0; k < subjects.length; k++) {
          const i = (round + k) % subjects.length;
          const r = await window(subjects[i]!);
          results[i]!.rate.push(r.rate);
          results[i]!.redisCpuUs.push(r.redisCpuUs);
          results[i]!.mainCpuUs.push(r.mainCpuUs);
        }
        progress(`${round + 1} `);
      }
      progress('\n');
      const base = results[subjects.indexOf('hincrby')];
      const rows = subjects.map((key, i): CapacityRow => ({
        key,
        label: CAPACITY_LABELS[key],
        ...results[i]!,
        ratio:
          key === 'hincrby' || base === undefined
            ? null
            : pairedRatios(results[i]!.rate, base.rate),
      }));
      return {
        processes: plan.processes,
        connections,
        perTick: plan.perTick,
        windowMs: plan.windowMs,
        rows,
        mismatches: [...mismatches],
      };
    });
  } finally {
    monitor.disconnect();
  }
}
