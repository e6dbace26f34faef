/**
 * Convergence of fleet mode under hostile or unusual input (the "Convergence" promise of fleet
 * mode): forged announcements, bad values in one key, identifiers that UTF-8 cannot carry,
 * leases left behind, listeners that reject. Runs against the shared Redis of the test run
 * (`REDIS_URL`), under a fresh key prefix per test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BramaEvent } from '../src/index.js';
import { setState } from '../src/testing/index.js';
import { changesChannel, connectionKeys, connectionTag } from '../src/stores/redis/keys.js';
import { redisUrl } from '../src/stores/redis/redis-test-support.js';
import { eventually, FaultFleet, healthEvents, type Member } from './faults/fleet-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

describeRedis('fleet convergence with hostile input', () => {
  const url = redisUrl!;
  let fleet: FaultFleet;
  beforeEach(() => {
    fleet = new FaultFleet(url);
  });
  afterEach(() => fleet.dispose());

  const flushAll = (...members: Member[]): Promise<unknown> =>
    Promise.all(members.map((m) => m.flush()));

  it('identifiers with lone surrogates: each process changes exactly the connection named', async () => {
    const a = await fleet.member(url, { maxAttempts: 1 });
    const b = await fleet.member(url, { maxAttempts: 1 });
    const names: [string, string | null][] = [
      ['\uD800', null],
      ['\uFFFD', null],
      ['db', 'x\uDC00'],
      ['db', 'x\uFFFD'],
    ];
    for (const m of [a, b]) for (const [id, scope] of names) m.brama.register(id, { scope });
    await flushAll(a, b);
    a.brama.failure('\uD800');
    a.brama.failure('db', { scope: 'x\uDC00' });
    await a.flush();
    await eventually(() => {
      expect(b.brama.status('\uD800').state).toBe('open');
      expect(b.brama.status('db', { scope: 'x\uDC00' }).state).toBe('open');
    });
    await sleep(100);
    expect(b.brama.status('\uFFFD').state).toBe('unknown');
    expect(b.brama.status('db', { scope: 'x\uFFFD' }).state).toBe('unknown');
    const touched = b.events.filter((e) => e.type === 'state_change').map((e) => e.identifier);
    expect(touched.sort()).toEqual(['db', '\uD800'].sort());
  });

  it('an async listener that rejects on a remote transition goes to onListenerError', async () => {
    const reported: [unknown, BramaEvent][] = [];
    const a = await fleet.member(url, { maxAttempts: 1 });
    const b = await fleet.member(url, {
      maxAttempts: 1,
      onListenerError: (error, event) => void reported.push([error, event]),
    });
    const webhook = new Error('alert webhook down');
    // An async listener (its promise is the point of the test).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    b.brama.subscribe(() => Promise.reject(webhook), { events: ['circuit_opened'] });
    for (const m of [a, b]) m.brama.register('db');
    await flushAll(a, b);
    a.brama.failure('db');
    await eventually(() => expect(reported).toHaveLength(1));
    expect(reported[0]![0]).toBe(webhook);
    expect(reported[0]![1].data).toMatchObject({ origin: 'remote' });
  });

  it('a forged announcement is a hint: Redis wins within one second, and later changes apply', async () => {
    const a = await fleet.member(url, { maxAttempts: 2 });
    const b = await fleet.member(url, { maxAttempts: 2 });
    for (const m of [a, b]) m.brama.register('db');
    a.brama.success('db');
    await flushAll(a, b);
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));
    const raw = fleet.raw(url);
    const now = Date.now();
    const forged = {
      source: 'forger',
      kind: 'open',
      tag: connectionTag('db', null),
      reason: 'forged',
      reply: [
        String(now), '1', '0', 'closed', '1', '0', '0', '1', '0',
        'open', '9', String(now), String(now + 1e12), '1', String(now), '999999999999',
        '999999999999999', '9', '0', String(now), 'forged', false, String(now + 1e12),
        String(now), '{}', '{}', '0',
      ], // prettier-ignore
    };
    await raw.publish(changesChannel(fleet.prefix), 'not json at all');
    await raw.publish(changesChannel(fleet.prefix), JSON.stringify({ ...forged, tag: '{|x' }));
    const sent = performance.now();
    await raw.publish(changesChannel(fleet.prefix), JSON.stringify(forged));
    await eventually(() => {
      expect(b.brama.status('db').state).toBe('closed');
      expect(b.brama.isAvailable('db')).toBe(true);
    }, 1_000);
    expect(performance.now() - sent).toBeLessThan(1_000);
    // Genuine changes still reach the process afterwards.
    a.brama.failure('db');
    a.brama.failure('db');
    await a.flush();
    await eventually(() => expect(b.brama.status('db').state).toBe('open'));
    a.brama.resetCircuit('db');
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));
    expect(b.brama.status('db').totalFailures).toBe(2);
  });

  it('a bad value in one key: only that connection falls back to local state, with one warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const a = await fleet.member(url, { maxAttempts: 5 });
      a.brama.register('bad');
      a.brama.register('good');
      await a.flush();
      const raw = fleet.raw(url);
      const key = connectionKeys(fleet.prefix, 'bad', null).state;
      await raw.hset(key, 'options', '{"maxAttempts":-5}');
      a.brama.failure('bad', { reason: 'first' }); // applied in Redis, its reply undecodable
      a.brama.failure('good');
      await a.flush();
      a.brama.failure('bad', { reason: 'second' }); // local, added once the key is fixed
      expect(a.brama.status('bad').totalFailures).toBe(2);
      expect(a.store.degraded).toBe(false);
      expect(healthEvents(a)).toEqual([]);
      const ours = (): Error[] => warnings.filter((w) => w.message.includes('"bad"'));
      await eventually(() => expect(ours()).toHaveLength(1)); // warnings come on the next tick
      expect(ours()[0]!.message).toContain('maxAttempts');
      // The rest of the store goes on sharing state.
      const good = connectionKeys(fleet.prefix, 'good', null).state;
      expect(await raw.hget(good, 'totalFailures')).toBe('1');
      // Fixed by an operator: the connection is shared again within a few seconds.
      await raw.hset(key, 'options', '{}');
      await eventually(async () => {
        expect(await raw.hget(key, 'totalFailures')).toBe('2');
      }, 8_000);
      a.brama.failure('bad', { reason: 'third' });
      await a.flush();
      expect(await raw.hget(key, 'totalFailures')).toBe('3');
      expect(a.brama.status('bad').totalFailures).toBe(3);
      expect(healthEvents(a)).toEqual([]);
      expect(ours()).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a trial left unreported does not fence later reports after the state moved elsewhere', async () => {
    const options = { maxAttempts: 2, halfOpenProbes: 1 };
    const a = await fleet.member(url, options);
    const b = await fleet.member(url, options);
    for (const m of [a, b]) m.brama.register('db');
    await flushAll(a, b);
    setState(a.brama, 'db', 'half_open');
    await a.flush();
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(true)); // a trial, never reported
    b.brama.closeCircuit('db', { reason: 'fixed elsewhere' });
    await b.flush();
    await eventually(() => expect(a.brama.status('db').state).toBe('closed'));
    a.brama.failure('db');
    a.brama.failure('db');
    await a.flush();
    expect(a.brama.status('db').state).toBe('open'); // as the memory store does
    await eventually(() => expect(b.brama.status('db').state).toBe('open'));
  });

  it('a trial slot lasts probeTimeout after the call was admitted, not after it was leased', async () => {
    const options = { halfOpenProbes: 1, probeTimeout: 1_500 };
    const a = await fleet.member(url, options);
    const b = await fleet.member(url, options);
    for (const m of [a, b]) m.brama.register('db');
    await flushAll(a, b);
    setState(a.brama, 'db', 'half_open');
    await a.flush(); // a leases the slot now, ahead of its callers
    await eventually(() => expect(b.brama.status('db').state).toBe('half_open'));
    await sleep(800);
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(true), 1_000);
    const admitted = performance.now();
    // Nobody else gets a trial while a's call may still be running.
    while (performance.now() - admitted < 1_300) {
      expect(b.brama.isAvailable('db')).toBe(false);
      expect(a.brama.isAvailable('db')).toBe(false);
      await sleep(20);
    }
    // Once it has lapsed, the slot is free again.
    await eventually(() => expect(b.brama.isAvailable('db')).toBe(true), 3_000);
  });

  it('a reason that cannot become text is counted and moves the circuit, without throwing', async () => {
    const a = await fleet.member(url, { maxAttempts: 2 });
    a.brama.register('db');
    class Loud extends Error {
      override get name(): string {
        throw new Error('name getter');
      }
    }
    expect(() => a.brama.failure('db', { reason: new Loud('boom') })).not.toThrow();
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
    revoke();
    expect(() => a.brama.failure('db', { reason: proxy })).toThrow(); // a typed argument error
    expect(() => a.brama.failure('db', { reason: new Loud('boom') })).not.toThrow();
    await a.flush();
    const raw = fleet.raw(url);
    const stored = await raw.hgetall(connectionKeys(fleet.prefix, 'db', null).state);
    expect(stored).toMatchObject({ state: 'open', totalFailures: '2' });
    expect(stored.lastFailureReason).toMatch(/could not be converted/);
    expect(a.brama.status('db')).toMatchObject({ state: 'open', totalFailures: 2 });
  });

  it('totals follow Redis in every process within one second, with no state change', async () => {
    const members = await Promise.all(
      Array.from({ length: 4 }, () => fleet.member(url, { maxAttempts: 100 })),
    );
    for (const m of members) m.brama.register('db');
    await flushAll(...members);
    for (const m of members) for (let i = 0; i < 3; i++) m.brama.failure('db');
    await flushAll(...members);
    const reported = performance.now();
    await eventually(() => {
      for (const m of members) expect(m.brama.status('db').totalFailures).toBe(12);
    }, 1_000);
    expect(performance.now() - reported).toBeLessThan(1_000);
  });
});
