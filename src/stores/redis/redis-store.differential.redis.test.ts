/**
 * Differential test at the level of the public API: random operation sequences replayed into a
 * memory-backed and a Redis-backed `Brama`; after every operation (and once the Redis store has
 * applied its replies) both must report the same statuses and admit the same calls. Open
 * periods are long, so the outcome does not depend on timing.
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Brama } from '../../brama.js';
import type { ConnectionStatus } from '../../core/status.js';
import { createRedisStore } from '../../redis.js';
import { ManualClock } from '../../testing/manual-clock.js';
import { setState } from '../../testing/helpers.js';
import type { RedisStore } from './redis-store.js';
import { deleteKeys, redisUrl } from './redis-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

const IDS = ['a', 'b'] as const;
const SCOPES = [null, 'eu'] as const;

type Op =
  | { readonly kind: 'register' | 'unregister' | 'available' | 'close' | 'reset' }
  | { readonly kind: 'success'; readonly durationMs?: number }
  | {
      readonly kind: 'failure';
      readonly reason: string | null;
      readonly durationMs?: number;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: 'open'; readonly expiry: number | null }
  | { readonly kind: 'force'; readonly state: 'closed' | 'open' | 'half_open' }
  | { readonly kind: 'configure'; readonly maxAttempts: number | undefined };

type Step = { readonly op: Op; readonly id: (typeof IDS)[number]; readonly scope: string | null };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'register' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unregister' as const }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'available' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'success' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('failure' as const),
      reason: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      expiry: fc.option(fc.integer({ min: 60_000, max: 600_000 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('force' as const),
      state: fc.constantFrom('closed' as const, 'open' as const, 'half_open' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('configure' as const),
      maxAttempts: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    }),
  },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  op: opArb,
  id: fc.constantFrom(...IDS),
  scope: fc.constantFrom(...SCOPES),
});

/** Applies one step; returns what the call returned, or the error code it threw. */
function apply(brama: Brama, { op, id, scope }: Step): unknown {
  const opts = scope === null ? undefined : { scope };
  try {
    switch (op.kind) {
      case 'register':
        return brama.register(id, { ...opts, halfOpenProbes: 2 }).state;
      case 'unregister':
        return brama.unregister(id, opts);
      case 'available':
        return brama.isAvailable(id, opts);
      case 'success':
        return brama.success(id, { ...opts, durationMs: op.durationMs });
      case 'failure':
        return brama.failure(id, {
          ...opts,
          reason: op.reason ?? undefined,
          durationMs: op.durationMs,
          retryAfterMs: op.retryAfterMs,
        });
      case 'open':
        return brama.openCircuit(id, { ...opts, expiry: op.expiry ?? undefined });
      case 'close':
        return brama.closeCircuit(id, opts);
      case 'reset':
        return brama.resetCircuit(id, opts);
      case 'force':
        return setState(brama, id, op.state, opts);
      case 'configure':
        return brama.configure(id, { ...opts, maxAttempts: op.maxAttempts });
    }
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The fields that must agree (times differ: one clock is manual, the other Redis's). */
function comparable(s: ConnectionStatus) {
  return {
    id: `${s.scope ?? ''}/${s.identifier}`,
    state: s.state,
    failureCount: s.failureCount,
    totalFailures: s.totalFailures,
    totalSuccesses: s.totalSuccesses,
    lastFailureReason: s.lastFailureReason,
    maxAttempts: s.maxAttempts,
    openPeriod: s.openUntil === null || s.openedAt === null ? null : s.openUntil - s.openedAt,
    failureRate: s.failureRate,
    slowCallRate: s.slowCallRate,
    windowCalls: s.windowCalls,
  };
}

/** Outcomes with durations and retry-afters, for the policies' sequences. */
const policyOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: opArb },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('success' as const),
      durationMs: fc.constantFrom(5, 50, 500),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('failure' as const),
      reason: fc.constant('slow'),
      durationMs: fc.constantFrom(5, 50, 500),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('failure' as const),
      reason: fc.constant('429'),
      retryAfterMs: fc.integer({ min: 60_000, max: 900_000 }),
    }),
  },
);

/** The settings under test: every policy, with long periods so that timing does not matter. */
const policyArb = fc.record({
  tripPolicy: fc.constantFrom('consecutive' as const, 'rate' as const),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  failureRateThreshold: fc.constantFrom(0.25, 0.5, 1),
  slowCallMs: fc.constantFrom(null, 50),
  slowCallRateThreshold: fc.constantFrom(0.5, 1),
  // A time window an hour long: nothing leaves it during a run, on either clock.
  window: fc.constantFrom({ calls: 3 }, { calls: 6 }, { ms: 3_600_000 }),
  minimumCalls: fc.integer({ min: 1, max: 3 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  mode: fc.constantFrom('enforce' as const, 'shadow' as const),
});

function snapshot(brama: Brama) {
  return brama
    .list()
    .map(comparable)
    .sort((x, y) => x.id.localeCompare(y.id));
}

describeRedis('RedisStore agrees with MemoryStore (differential)', () => {
  const prefix = `brama-test-${randomUUID()}`;
  const url = redisUrl!;
  let run = 0;

  beforeAll(async () => {
    const probe = createRedisStore({ url, prefix });
    const b = new Brama({ store: probe });
    await probe.ready();
    const degraded = probe.degraded;
    await b.close();
    if (degraded) throw new Error(`Redis at ${url} is unreachable`);
  });

  afterAll(async () => {
    await deleteKeys(url, prefix);
  });

  it('on random sequences of API calls over two connections and two scopes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
        const options = { maxAttempts: 3, expiry: 300_000, halfOpenProbes: 2 };
        const memory = new Brama({ ...options, clock: new ManualClock(1_700_000_000_000) });
        const store: RedisStore = createRedisStore({ url, prefix: `${prefix}:${++run}` });
        const redis = new Brama({ ...options, store });
        try {
          await store.ready();
          // Most connections start registered: the sequence spends its steps on them.
          for (const id of IDS) {
            const step: Step = { op: { kind: 'register' }, id, scope: null };
            expect(apply(redis, step)).toEqual(apply(memory, step));
          }
          for (const step of steps) {
            const expected = apply(memory, step);
            const actual = apply(redis, step);
            expect({ step, result: actual }).toEqual({ step, result: expected });
            await store.flush();
            expect(snapshot(redis)).toEqual(snapshot(memory));
          }
        } finally {
          await Promise.all([memory.close(), redis.close()]);
        }
      }),
      { numRuns: 100 },
    );
  });
  it('with every trip policy: rate windows, slow calls, retry-after, success threshold, shadow', async () => {
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(
          fc.record({
            op: policyOpArb,
            id: fc.constantFrom(...IDS),
            scope: fc.constantFrom(...SCOPES),
          }),
          {
            minLength: 10,
            maxLength: 60,
          },
        ),
        async (policy, steps) => {
          // A ramp-up would depend on time: the run would need a clock both sides share.
          const options = { ...policy, expiry: 300_000, halfOpenProbes: 2, random: () => 0.5 };
          const memory = new Brama({ ...options, clock: new ManualClock(1_700_000_000_000) });
          const store: RedisStore = createRedisStore({ url, prefix: `${prefix}:${++run}` });
          const redis = new Brama({ ...options, store });
          try {
            await store.ready();
            // Every connection starts registered: the sequence spends its steps on outcomes.
            for (const id of IDS)
              for (const scope of SCOPES) {
                const step: Step = { op: { kind: 'register' }, id, scope };
                expect(apply(redis, step)).toEqual(apply(memory, step));
              }
            for (const step of steps) {
              const expected = apply(memory, step);
              const actual = apply(redis, step);
              expect({ policy, step, result: actual }).toEqual({ policy, step, result: expected });
              await store.flush();
              expect(snapshot(redis)).toEqual(snapshot(memory));
            }
          } finally {
            await Promise.all([memory.close(), redis.close()]);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
