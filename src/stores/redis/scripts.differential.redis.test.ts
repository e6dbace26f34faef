/**
 * Differential test: random operation sequences on one connection, applied to the Redis scripts
 * and to the pure core (`src/core/transitions.ts`, with memory-store's bookkeeping), using the
 * server time each reply carries as the core's `now`. After every operation both must agree.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { assertNever } from '../../core/assert-never.js';
import { addOutcome, emptyBatch } from '../../core/outcome-batch.js';
import { resolveSettings, type CircuitSettings } from '../../core/settings.js';
import { initialCircuit, type Circuit } from '../../core/state.js';
import {
  admit,
  closeManually,
  force,
  onFailure,
  onIgnored,
  onSuccess,
  openManually,
  retryAfter,
  settle,
} from '../../core/transitions.js';
import type { ManualAction } from '../store.js';
import type { ConnectionRef } from './commands.js';
import type { ReportReply } from './reply.js';
import { RedisFixture, redisUrl } from './redis-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

type Op =
  | { readonly kind: 'register' }
  | { readonly kind: 'success' }
  | { readonly kind: 'failure'; readonly reason: string | null }
  | { readonly kind: 'batch'; readonly outcomes: readonly (string | null | true)[] }
  | { readonly kind: 'ignore' }
  | { readonly kind: 'acquire' }
  | { readonly kind: 'act'; readonly action: ManualAction; readonly expiry: number | null }
  | { readonly kind: 'read' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'wait'; readonly ms: number };

/** The reference: a core circuit plus memory-store's counters. */
interface Model {
  c: Circuit;
  totalFailures: number;
  totalSuccesses: number;
  lastFailureTime: number | null;
  lastFailureReason: string | null;
  lastSuccessTime: number | null;
  registeredAt: number;
  lastActivityAt: number;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'register' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'success' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('failure' as const),
      reason: fc.option(fc.string(), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'ignore' as const }) },
  {
    // Several outcomes in one report, as the coalescer sends them: `true` is a success, a
    // string or null a failure with that reason.
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      outcomes: fc.array(
        fc.oneof(fc.constant(true as const), fc.option(fc.string(), { nil: null })),
        {
          minLength: 1,
          maxLength: 9,
        },
      ),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      action: fc.constantFrom<ManualAction>(
        'open',
        'close',
        'reset',
        'force_open',
        'force_closed',
        'force_half_open',
      ),
      expiry: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'read' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.integer({ min: 1, max: 8 }),
    }),
  },
);

const settingsArb: fc.Arbitrary<CircuitSettings> = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 4 }),
    expiryStrategy: fc.constantFrom('fixed' as const, 'progressive' as const),
    expiry: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(2.5, 7.25)),
    initialExpiry: fc.integer({ min: 1, max: 6 }),
    extra: fc.integer({ min: 0, max: 20 }),
    backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
    halfOpenProbes: fc.integer({ min: 1, max: 3 }),
    probeTimeout: fc.integer({ min: 1, max: 12 }),
  })
  .map(({ extra, ...o }) => resolveSettings({}, { ...o, maxExpiry: o.initialExpiry + extra }));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Memory-store's settle: the lazy transition and its activity. */
function settleModel(m: Model, now: number): boolean {
  const next = settle(m.c, now);
  if (next === m.c) return false;
  m.c = next;
  m.lastActivityAt = Math.max(m.lastActivityAt, next.changedAt);
  return true;
}

function manual(c: Circuit, s: CircuitSettings, op: Extract<Op, { kind: 'act' }>, now: number) {
  switch (op.action) {
    case 'open':
      return openManually(c, s, now, op.expiry);
    case 'close':
    case 'reset':
      return closeManually(c, now);
    case 'force_closed':
      return force(c, s, 'closed', now);
    case 'force_open':
      return force(c, s, 'open', now);
    case 'force_half_open':
      return force(c, s, 'half_open', now);
    default:
      return assertNever(op.action);
  }
}

describeRedis('redis scripts vs the pure core (differential)', () => {
  let fx: RedisFixture;
  let n = 0;

  beforeAll(async () => {
    fx = new RedisFixture(redisUrl!, 1);
    await fx.ready();
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  /** Applies one op to Redis and to the model, and compares the outcomes. */
  async function step(ref: ConnectionRef, s: CircuitSettings, model: Model | null, op: Op) {
    const r = fx.main;
    let reply: ReportReply;
    switch (op.kind) {
      case 'wait':
        await sleep(op.ms);
        return model;
      case 'delete':
        expect(await r.delete(ref)).toBe(model !== null);
        return null;
      case 'register':
        reply = await r.register(ref, {}, {});
        break;
      case 'success':
      case 'ignore':
        reply = await r.report(ref, s, op.kind, null, null);
        break;
      case 'failure':
        reply = await r.report(ref, s, 'failure', op.reason, null);
        break;
      case 'batch': {
        const batch = emptyBatch();
        for (const o of op.outcomes)
          addOutcome(batch, o === true ? 'success' : 'failure', o === true ? null : o);
        reply = await r.reportBatch(ref, s, batch, null);
        break;
      }
      case 'acquire':
        reply = await r.acquireTrial(ref, s, `lease-${++n}`);
        break;
      case 'act':
        reply = await r.act(ref, s, op.action, op.expiry);
        break;
      case 'read':
        reply = await r.read(ref);
        break;
      default:
        return assertNever(op);
    }
    const now = reply.now;
    if (model === null && op.kind !== 'register') {
      expect(reply.found).toBe(false);
      return null;
    }
    if (reply.found !== true) throw new Error(`${op.kind}: no whole connection in the reply`);
    let m: Model;
    let expired = false;
    if (model === null) {
      m = {
        c: initialCircuit(now),
        totalFailures: 0,
        totalSuccesses: 0,
        lastFailureTime: null,
        lastFailureReason: null,
        lastSuccessTime: null,
        registeredAt: now,
        lastActivityAt: now,
      };
    } else {
      m = model;
      expired = settleModel(m, now);
    }
    const from = m.c.state;
    switch (op.kind) {
      case 'register':
        m.lastActivityAt = now;
        break;
      case 'success':
        m.totalSuccesses++;
        m.lastSuccessTime = now;
        m.lastActivityAt = now;
        m.c = onSuccess(m.c, s, now);
        break;
      case 'failure':
        m.totalFailures++;
        m.lastFailureTime = now;
        m.lastFailureReason = op.reason;
        m.lastActivityAt = now;
        m.c = onFailure(m.c, s, now);
        break;
      case 'ignore':
        m.c = onIgnored(m.c);
        break;
      case 'batch':
        // One by one, at the reply's moment: what the batch must equal.
        for (const o of op.outcomes) {
          m.lastActivityAt = now;
          if (o === true) {
            m.totalSuccesses++;
            m.lastSuccessTime = now;
            m.c = onSuccess(m.c, s, now);
          } else {
            m.totalFailures++;
            m.lastFailureTime = now;
            m.lastFailureReason = o;
            m.c = onFailure(m.c, s, now);
          }
        }
        break;
      case 'acquire': {
        const next = admit(m.c, s, now);
        expect(reply.flag).toBe(next !== null);
        if (next === null) expect(reply.retryAfter).toBe(retryAfter(m.c, s, now));
        else m.c = next;
        break;
      }
      case 'act':
        m.c = manual(m.c, s, op, now);
        m.lastActivityAt = now;
        break;
      case 'read':
        break;
    }
    const got = reply.connection;
    const { trials, ...circuit } = m.c;
    const { trials: _none, ...gotCircuit } = got.circuit;
    expect({
      expired: reply.expired,
      from: reply.from,
      transitioned: reply.transitioned,
      circuit: gotCircuit,
      liveTrials: got.liveTrials,
      totalFailures: got.totalFailures,
      totalSuccesses: got.totalSuccesses,
      lastFailureTime: got.lastFailureTime,
      lastFailureReason: got.lastFailureReason,
      lastSuccessTime: got.lastSuccessTime,
      registeredAt: got.registeredAt,
      lastActivityAt: got.lastActivityAt,
    }).toEqual({
      expired,
      from,
      transitioned: m.c.state !== from,
      circuit,
      liveTrials: trials.filter((at) => now - at < s.probeTimeout).length,
      totalFailures: m.totalFailures,
      totalSuccesses: m.totalSuccesses,
      lastFailureTime: m.lastFailureTime,
      lastFailureReason: m.lastFailureReason,
      lastSuccessTime: m.lastSuccessTime,
      registeredAt: m.registeredAt,
      lastActivityAt: m.lastActivityAt,
    });
    return m;
  }

  it('agrees with transitions.ts on ~100 random sequences of ~30 operations', async () => {
    await fc.assert(
      fc.asyncProperty(
        settingsArb,
        fc.array(opArb, { minLength: 20, maxLength: 40 }),
        async (s, ops) => {
          const ref: ConnectionRef = { identifier: `diff-${++n}`, scope: null };
          let model: Model | null = null;
          for (const [i, op] of [{ kind: 'register' as const }, ...ops].entries()) {
            try {
              model = await step(ref, s, model, op);
            } catch (e) {
              throw new Error(`op #${i} ${JSON.stringify(op)} failed`, { cause: e });
            }
          }
          await fx.main.delete(ref);
        },
      ),
      { numRuns: 100 },
    );
  });
});
