/**
 * Scenario 6: fleet mode (`brama/redis`), against a `redis-server` started for the run
 * (bench/redis-server.ts) on a free loopback port, so no other client skews it:
 *
 * - `isAvailable` with the Redis store against the memory store (fleet-available.ts);
 * - fleet capacity: 4 processes reporting as fast as they can on 10, then 1,000 shared
 *   connections, against the same processes sending one pipelined `HINCRBY` (or one trivial
 *   `EVALSHA`) per report; Redis CPU per report (fleet-capacity.ts);
 * - one process with 64 calls in flight, Redis store against memory store (fleet-inflight.ts);
 * - how soon another process sees a trip, idle and with a busy reporter (fleet-propagation.ts);
 * - how many calls reach a dependency that goes down, fleet-wide (fleet-outage.ts).
 *
 * Every measurement uses its own key prefix under one run prefix. When no Redis can be started
 * the scenario is skipped with the reason.
 */
import { randomUUID } from 'node:crypto';
import { progress } from '../fleet-children.js';
import type { Plan } from '../harness.js';
import { cleanUp, startRedis, type BenchRedis } from '../redis-server.js';
import type { Table } from '../table.js';
import { measureAvailable } from './fleet-available.js';
import { measureCapacity, type Capacity, type CapacityPlan } from './fleet-capacity.js';
import { measureInflight, type InflightPlan } from './fleet-inflight.js';
import { measureOutage, type Outage, type OutagePlan } from './fleet-outage.js';
import { measurePropagation, type Propagation, type PropagationPlan } from './fleet-propagation.js';

export interface FleetPlan {
  /** `isAvailable`: interleaved rounds, batch duration and warm-up per subject. */
  readonly available: Plan;
  /** Fleet capacity (both connection counts). */
  readonly capacity: CapacityPlan;
  /** Connections shared by the processes: few (many reports each per tick), then many. */
  readonly capacityConnections: { readonly few: number; readonly many: number };
  readonly inflight: InflightPlan;
  readonly propagation: PropagationPlan;
  readonly outage: OutagePlan;
}

export interface FleetResults {
  /** Why the scenario did not run, `null` when it did. */
  readonly skipped: string | null;
  /** What was measured against. */
  readonly redis: string;
  /** Measurements that failed (e.g. the store went degraded), with why; their parts are absent. */
  readonly failed?: readonly string[];
  readonly available?: Table | undefined;
  /**
   * Capacity with few connections (many reports per connection and tick), and with many (one
   * report per connection and tick, plus the trivial-script row for Redis CPU per report).
   */
  readonly capacity?: { readonly few?: Capacity | undefined; readonly many?: Capacity | undefined };
  readonly inflight?: Table | undefined;
  readonly propagation?: Propagation | undefined;
  readonly outage?: Outage | undefined;
}

export async function fleet(plan: FleetPlan): Promise<FleetResults> {
  let redis: BenchRedis;
  try {
    redis = await startRedis();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    progress(`  6 fleet: skipped (${reason})\n`);
    return { skipped: `no Redis to measure against: ${reason}`, redis: 'none' };
  }
  const { url } = redis;
  const prefix = `brama-bench-${randomUUID()}`;
  const failed: string[] = [];
  /** One measurement; a failure (say, the store went degraded) is reported, not fatal. */
  const attempt = async <T>(what: string, measure: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await measure();
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      progress(`  6 fleet ${what}: failed (${why})\n`);
      failed.push(`${what}: ${why}`);
      return undefined;
    }
  };
  try {
    const available = await attempt('isAvailable', () =>
      measureAvailable(url, prefix, plan.available),
    );
    const { few, many } = plan.capacityConnections;
    const capacity = {
      few: await attempt(`capacity × ${few}`, () =>
        measureCapacity(url, prefix, plan.capacity, few, ['brama', 'hincrby']),
      ),
      many: await attempt(`capacity × ${many}`, () =>
        measureCapacity(url, prefix, plan.capacity, many, ['brama', 'hincrby', 'script']),
      ),
    };
    const inflight = await attempt('in flight', () => measureInflight(url, prefix, plan.inflight));
    const propagation = await attempt('propagation', () =>
      measurePropagation(url, prefix, plan.propagation),
    );
    const outage = await attempt('dependency down', () => measureOutage(url, prefix, plan.outage));
    return {
      skipped: null,
      redis: redis.description,
      failed,
      available,
      capacity,
      inflight,
      propagation,
      outage,
    };
  } finally {
    if (!redis.own) {
      const deleted = await cleanUp(url, prefix).catch(() => -1);
      progress(
        deleted < 0
          ? `  6 fleet: could not delete the keys under ${prefix}:*\n`
          : `  6 fleet: deleted ${deleted} keys under ${prefix}:*\n`,
      );
    }
    await redis.stop();
  }
}
