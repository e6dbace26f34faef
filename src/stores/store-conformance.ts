/**
 * The store conformance suite (test-only, never imported by the library): the behaviour every
 * `ConnectionStore` must show through the public API. `memory-store.conformance.test.ts` runs
 * it on the memory store with a ManualClock; `redis-store.conformance.redis.test.ts` on Redis,
 * where time is Redis server time, so `advance` really waits.
 */
import { describe, expect, it } from 'vitest';
import type { Brama } from '../brama.js';
import type { BramaOptions } from '../options.js';
import type { BramaEvent } from '../events/types.js';
import { isBramaError } from '../core/is-brama-error.js';
import { setState } from '../testing/helpers.js';

/** How the suite drives one kind of store. */
export interface StoreHarness {
  /** A new registry on a fresh store (closed by `dispose`). */
  create(options?: Omit<BramaOptions, 'store' | 'clock'>): Promise<Brama>;
  /** Waits until everything reported so far is applied to the local view (memory: nothing). */
  sync(brama: Brama): Promise<void>;
  /** Lets `ms` of the store's time pass. */
  advance(ms: number): Promise<void>;
  /** Closes everything `create` made. */
  dispose(): Promise<void>;
}

/** Short enough to wait for on a real clock, long enough to not elapse by accident. */
const EXPIRY = 300;

function events(brama: Brama): BramaEvent[] {
  const seen: BramaEvent[] = [];
  brama.subscribe((e) => void seen.push(e));
  return seen;
}

async function admitted(h: StoreHarness, brama: Brama, id: string, tries: number) {
  let count = 0;
  for (let i = 0; i < tries; i++) if (brama.isAvailable(id)) count++;
  await h.sync(brama);
  return count;
}

/** Defines the suite for one store. */
export function describeStoreConformance(name: string, harness: () => StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    const withHarness =
      (test: (h: StoreHarness) => Promise<void>): (() => Promise<void>) =>
      async () => {
        const h = harness();
        try {
          await test(h);
        } finally {
          await h.dispose();
        }
      };

    it(
      'counts outcomes and trips at maxAttempts consecutive failures',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 3, expiry: EXPIRY });
        b.register('db');
        expect(b.status('db').state).toBe('unknown');
        b.success('db');
        await h.sync(b);
        expect(b.status('db')).toMatchObject({ state: 'closed', totalSuccesses: 1 });
        b.failure('db', { reason: 'first' });
        b.failure('db');
        await h.sync(b);
        expect(b.status('db')).toMatchObject({ state: 'closed', failureCount: 2 });
        b.success('db'); // resets the consecutive count
        for (let i = 0; i < 3; i++) b.failure('db', { reason: `e${i}` });
        await h.sync(b);
        expect(b.status('db')).toMatchObject({
          state: 'open',
          failureCount: 3,
          totalFailures: 5,
          totalSuccesses: 2,
          lastFailureReason: 'e2',
        });
        expect(b.isAvailable('db')).toBe(false);
      }),
    );

    it(
      'emits one outcome event per report and one trip, in order',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 2, expiry: EXPIRY });
        const seen = events(b);
        b.register('db');
        b.failure('db', { reason: 'a' });
        b.failure('db', { reason: 'b' });
        await h.sync(b);
        expect(seen.map((e) => e.type)).toEqual([
          'registration',
          'failure',
          'state_change', // unknown → closed
          'failure',
          'state_change',
          'circuit_opened',
        ]);
        const opened = seen.at(-1)!;
        expect(opened.data).toMatchObject({
          from: 'closed',
          to: 'open',
          reason: 'b',
          cause: 'failure',
          origin: 'local',
        });
      }),
    );

    it(
      'half-opens after the open period and admits at most halfOpenProbes trials',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 1, expiry: EXPIRY, halfOpenProbes: 2 });
        b.register('db');
        b.failure('db');
        await h.sync(b);
        expect(b.status('db').state).toBe('open');
        await h.advance(EXPIRY + 50);
        expect(b.status('db').state).toBe('half_open'); // status never takes a trial
        await h.sync(b);
        expect(await admitted(h, b, 'db', 5)).toBe(2);
        b.success('db');
        await h.sync(b);
        expect(b.status('db').state).toBe('closed');
        expect(b.isAvailable('db')).toBe(true);
      }),
    );

    it(
      'a failed trial re-opens with a progressively longer period',
      withHarness(async (h) => {
        const b = await h.create({
          maxAttempts: 1,
          expiryStrategy: 'progressive',
          initialExpiry: EXPIRY,
          backoffFactor: 2,
          maxExpiry: EXPIRY * 10,
        });
        b.register('db');
        b.failure('db');
        await h.sync(b);
        const first = b.status('db');
        expect(first.openUntil! - first.openedAt!).toBe(EXPIRY);
        await h.advance(EXPIRY + 50);
        b.status('db');
        await h.sync(b);
        expect(await admitted(h, b, 'db', 1)).toBe(1);
        b.failure('db');
        await h.sync(b);
        const second = b.status('db');
        expect(second.state).toBe('open');
        expect(second.openUntil! - second.openedAt!).toBe(EXPIRY * 2);
      }),
    );

    it(
      'manual open, close and reset apply and announce themselves',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 5, expiry: 60_000 });
        const seen = events(b);
        b.register('db');
        b.openCircuit('db', { reason: 'maintenance', expiry: 120_000 });
        await h.sync(b);
        const open = b.status('db');
        expect(open.state).toBe('open');
        expect(open.openUntil! - open.openedAt!).toBe(120_000);
        expect(b.isAvailable('db')).toBe(false);
        b.closeCircuit('db');
        await h.sync(b);
        expect(b.status('db').state).toBe('closed');
        b.failure('db');
        b.resetCircuit('db', { reason: 'fixed' });
        await h.sync(b);
        expect(b.status('db')).toMatchObject({
          state: 'closed',
          failureCount: 0,
          totalFailures: 1,
        });
        const manual = seen.filter((e) => e.type.startsWith('circuit_'));
        expect(manual.map((e) => [e.type, (e.data as { cause: string }).cause])).toEqual([
          ['circuit_opened', 'manual'],
          ['circuit_closed', 'manual'],
          ['circuit_reset', 'reset'],
        ]);
        expect(manual[0]!.data).toMatchObject({ reason: 'maintenance', origin: 'local' });
      }),
    );

    it(
      'forced states from the testing kit',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 5, expiry: 60_000, halfOpenProbes: 1 });
        b.register('db');
        setState(b, 'db', 'open');
        await h.sync(b);
        expect(b.status('db').state).toBe('open');
        setState(b, 'db', 'half_open');
        await h.sync(b);
        expect(await admitted(h, b, 'db', 3)).toBe(1);
        b.failure('db');
        await h.sync(b);
        expect(b.status('db').state).toBe('open');
        setState(b, 'db', 'closed');
        await h.sync(b);
        expect(b.status('db')).toMatchObject({ state: 'closed', failureCount: 0 });
      }),
    );

    it(
      'per-connection configuration applies to the next report',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 5, expiry: 60_000 });
        b.register('db');
        b.failure('db');
        await h.sync(b);
        b.configure('db', { maxAttempts: 2, metadata: { team: 'payments' } });
        b.failure('db');
        await h.sync(b);
        expect(b.status('db')).toMatchObject({
          state: 'open',
          maxAttempts: 2,
          metadata: { team: 'payments' },
        });
      }),
    );

    it(
      'scopes keep connections apart',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 1, expiry: 60_000 });
        b.register('db');
        b.register('db', { scope: 'eu' });
        b.failure('db', { scope: 'eu' });
        await h.sync(b);
        expect(b.status('db', { scope: 'eu' }).state).toBe('open');
        expect(b.status('db').state).toBe('unknown');
        expect(b.isAvailable('db')).toBe(true);
        expect(b.list({ scope: 'eu' }).map((s) => s.identifier)).toEqual(['db']);
        expect(b.list()).toHaveLength(2);
      }),
    );

    it(
      'unregister forgets the connection; registering again starts over',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 1, expiry: 60_000 });
        b.register('db');
        b.failure('db');
        await h.sync(b);
        expect(b.unregister('db')).toBe(true);
        expect(b.unregister('db')).toBe(false);
        expect(b.isAvailable('db')).toBe(false);
        let error: unknown;
        try {
          b.status('db');
        } catch (e) {
          error = e;
        }
        expect(isBramaError(error, 'BRAMA_NOT_FOUND')).toBe(true);
        await h.sync(b);
        b.register('db');
        await h.sync(b);
        expect(b.status('db')).toMatchObject({ state: 'unknown', totalFailures: 0 });
      }),
    );

    it(
      'wrapped calls report their outcome and are refused while open',
      withHarness(async (h) => {
        const b = await h.create({ maxAttempts: 2, expiry: 60_000 });
        await expect(b.run('api', () => Promise.resolve(42))).resolves.toBe(42);
        const boom = new Error('boom');
        await expect(b.run('api', () => Promise.reject(boom))).rejects.toBe(boom);
        await expect(b.run('api', () => Promise.reject(boom))).rejects.toBe(boom);
        await h.sync(b);
        expect(b.status('api')).toMatchObject({ state: 'open', totalFailures: 2 });
        const refused = await b.run('api', () => 1).catch((e: unknown) => e);
        expect(isBramaError(refused, 'BRAMA_CIRCUIT_OPEN')).toBe(true);
      }),
    );
  });
}
