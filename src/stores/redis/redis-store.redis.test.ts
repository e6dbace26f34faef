/**
 * Fleet behaviour of the Redis store with several registries in one process (each with its
 * own store and clients, as separate processes would have). The multi-process and fault tests
 * are in test/fleet.redis.test.ts and test/faults.redis.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Brama } from '../../brama.js';
import type { BramaOptions } from '../../options.js';
import type { BramaEvent } from '../../events/types.js';
import { createRedisStore, type RedisStoreOptions } from '../../redis.js';
import { setState } from '../../testing/helpers.js';
import { connectionKeys } from './keys.js';
import type { RedisStore } from './redis-store.js';
import { connect, deleteKeys, redisUrl } from './redis-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

/** Polls `check` until it stops throwing, or fails with its last error after `ms`. */
async function eventually(check: () => void, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

interface Member {
  readonly brama: Brama;
  readonly store: RedisStore;
  readonly events: BramaEvent[];
}

describeRedis('RedisStore in a fleet', () => {
  const url = redisUrl!;
  let prefix = '';
  let members: Member[] = [];
  const clients: Redis[] = [];

  async function join(
    options: Omit<BramaOptions, 'store'> = {},
    storeOptions: Omit<RedisStoreOptions, 'url' | 'prefix' | 'client'> & { client?: Redis } = {},
  ): Promise<Member> {
    const store = createRedisStore(
      storeOptions.client ? { prefix, ...storeOptions } : { url, prefix, ...storeOptions },
    );
    const brama = new Brama({ ...options, store });
    const events: BramaEvent[] = [];
    brama.subscribe((e) => void events.push(e));
    await store.ready();
    expect(store.degraded).toBe(false);
    const member = { brama, store, events };
    members.push(member);
    return member;
  }

  const flushAll = (): Promise<unknown> => Promise.all(members.map((m) => m.store.flush()));
  const of = (events: BramaEvent[], type: string) => events.filter((e) => e.type === type);

  afterEach(async () => {
    await Promise.all(members.map((m) => m.brama.close()));
    members = [];
    await Promise.all(clients.splice(0).map((c) => c.quit()));
    if (prefix) await deleteKeys(url, prefix);
  });

  const fresh = (): void => {
    prefix = `brama-test-${randomUUID()}`;
  };

  it('announces a trip as local in the reporting process and remote elsewhere', async () => {
    fresh();
    const a = await join({ maxAttempts: 2, expiry: 60_000 });
    const b = await join({ maxAttempts: 2, expiry: 60_000 });
    a.brama.register('db');
    b.brama.register('db');
    a.brama.failure('db', { reason: 'first' });
    await flushAll();
    a.brama.failure('db', { reason: 'second' });
    await flushAll();
    await eventually(() => expect(b.brama.status('db').state).toBe('open'));
    const local = of(a.events, 'circuit_opened');
    const remote = of(b.events, 'circuit_opened');
    expect(local.map((e) => e.data)).toMatchObject([{ origin: 'local', cause: 'failure' }]);
    expect(remote.map((e) => e.data)).toMatchObject([
      { origin: 'remote', cause: 'failure', from: 'closed', to: 'open', reason: 'second' },
    ]);
    // Another process's failures are not this process's outcome events.
    expect(of(b.events, 'failure')).toHaveLength(0);
    expect(b.brama.status('db')).toMatchObject({ totalFailures: 2, failureCount: 2 });
    expect(b.brama.isAvailable('db')).toBe(false);
  });

  it('a manual action reaches every process; a joining process adopts the state', async () => {
    fresh();
    const a = await join();
    const b = await join();
    a.brama.register('db', { scope: 'eu' });
    b.brama.register('db', { scope: 'eu' });
    await flushAll();
    b.brama.openCircuit('db', { scope: 'eu', reason: 'maintenance' });
    await eventually(() => expect(a.brama.status('db', { scope: 'eu' }).state).toBe('open'));
    expect(of(a.events, 'circuit_opened').map((e) => e.data)).toMatchObject([
      { origin: 'remote', cause: 'manual', reason: 'maintenance' },
    ]);
    const openedAt = b.brama.status('db', { scope: 'eu' }).openedAt;

    const c = await join();
    expect(c.brama.register('db', { scope: 'eu' }).state).toBe('unknown');
    await c.store.flush();
    expect(c.brama.status('db', { scope: 'eu' }).state).toBe('open');
    expect(of(c.events, 'circuit_opened').map((e) => e.data)).toMatchObject([
      { origin: 'remote', cause: 'sync', from: 'unknown' },
    ]);
    await flushAll();
    // Joining did not reset the shared state.
    expect(b.brama.status('db', { scope: 'eu' })).toMatchObject({ state: 'open', openedAt });
    expect(c.brama.isAvailable('db', { scope: 'eu' })).toBe(false);
  });

  it('configure is shared: options and metadata reach the other processes', async () => {
    fresh();
    const a = await join({ maxAttempts: 5 });
    const b = await join({ maxAttempts: 5 });
    a.brama.register('db');
    b.brama.register('db');
    await flushAll();
    a.brama.configure('db', { maxAttempts: 1, metadata: { owner: 'payments' } });
    await eventually(() =>
      expect(b.brama.status('db')).toMatchObject({
        maxAttempts: 1,
        metadata: { owner: 'payments' },
      }),
    );
    b.brama.failure('db');
    await flushAll();
    expect(b.brama.status('db').state).toBe('open');
  });

  it('leases half-open trials fleet-wide and gives unused ones back', async () => {
    fresh();
    const options = { maxAttempts: 1, expiry: 60_000, halfOpenProbes: 1, probeTimeout: 150 };
    const a = await join(options);
    const b = await join(options);
    a.brama.register('db');
    b.brama.register('db');
    await flushAll();
    setState(a.brama, 'db', 'half_open');
    await eventually(() => expect(b.brama.status('db').state).toBe('half_open'));
    await flushAll();
    const admitted = [a, b, a, b].filter((m) => m.brama.isAvailable('db')).length;
    expect(admitted).toBe(1);
  });

  it('gives a lease nobody uses back to the fleet after min(probeTimeout, 1 s)', async () => {
    fresh();
    const options = { maxAttempts: 1, expiry: 60_000, halfOpenProbes: 1, probeTimeout: 10_000 };
    const a = await join(options);
    a.brama.register('db');
    setState(a.brama, 'db', 'half_open'); // a leases the only slot at once, and never uses it
    await a.store.flush();
    const b = await join(options);
    b.brama.register('db');
    await b.store.flush();
    expect(b.brama.status('db').state).toBe('half_open');
    expect(b.brama.isAvailable('db')).toBe(false);
    const started = Date.now();
    await eventually(() => expect(b.brama.isAvailable('db')).toBe(true), 3000);
    // Well before the lease's own expiry (probeTimeout, 10 s).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(a.brama.isAvailable('db')).toBe(false);
  });

  it('a late result from an earlier half-open period cannot close the circuit', async () => {
    fresh();
    const a = await join({ maxAttempts: 1, expiry: 60_000, halfOpenProbes: 1 });
    a.brama.register('db');
    setState(a.brama, 'db', 'half_open');
    await a.store.flush();
    let finish!: (value: string) => void;
    const call = a.brama.run('db', () => new Promise<string>((resolve) => (finish = resolve)));
    await a.store.flush();
    setState(a.brama, 'db', 'open'); // the period of that trial ends
    setState(a.brama, 'db', 'half_open'); // a new one starts
    await a.store.flush();
    finish('late');
    await expect(call).resolves.toBe('late');
    await a.store.flush();
    expect(a.brama.status('db')).toMatchObject({ state: 'half_open', totalSuccesses: 1 });
  });

  it('keys expire with inactivity; unregister deletes them, cleanup does not', async () => {
    fresh();
    const redis = connect(url);
    clients.push(redis);
    const a = await join({ inactiveThreshold: 1 }, { keyTtl: 60_000 });
    a.brama.register('db');
    a.brama.register('idle');
    await a.store.flush();
    const db = connectionKeys(prefix, 'db', null).state;
    const idle = connectionKeys(prefix, 'idle', null).state;
    const ttl = await redis.pttl(db);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000 + 60_000 / 16);
    expect(a.brama.unregister('db')).toBe(true);
    await a.store.flush();
    expect(await redis.exists(db)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(a.brama.cleanup()).toBe(1);
    await a.store.flush();
    expect(await redis.exists(idle)).toBe(1); // another process may still use it
  });

  it('recreates a connection Redis lost from the local state', async () => {
    fresh();
    const redis = connect(url);
    clients.push(redis);
    const a = await join({ maxAttempts: 1, expiry: 60_000 });
    a.brama.register('db');
    a.brama.failure('db');
    await a.store.flush();
    const keys = connectionKeys(prefix, 'db', null);
    await redis.del(keys.state, keys.trials);
    a.brama.failure('db', { reason: 'still down' });
    await a.store.flush();
    expect(await redis.hget(keys.state, 'state')).toBe('open');
    expect(await redis.hget(keys.state, 'totalFailures')).toBe('2');
    expect(a.brama.status('db')).toMatchObject({ state: 'open', totalFailures: 2 });
  });

  it('reads every connection back when its subscription is re-established', async () => {
    fresh();
    const name = `brama-sub-${randomUUID()}`;
    const client = new Redis(url, { connectionName: name }); // the duplicate inherits the name
    client.on('error', () => {});
    clients.push(client);
    const a = await join({ maxAttempts: 5 }, { client });
    a.brama.register('db');
    a.brama.failure('db');
    await a.store.flush();
    // A change nobody announces, as if its message had been lost.
    const admin = connect(url);
    clients.push(admin);
    const key = connectionKeys(prefix, 'db', null).state;
    const generation = Number(await admin.hget(key, 'generation'));
    await admin.hset(
      key,
      'state',
      'open',
      'generation',
      String(generation + 1),
      'openUntil',
      String(Date.now() + 60_000),
      'openedAt',
      String(Date.now()),
      'openings',
      '1',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.brama.status('db').state).toBe('closed'); // no announcement: the view cannot know
    const list = await admin.client('LIST');
    const ids = String(list)
      .split('\n')
      .filter((line) => line.includes(`name=${name}`) && / sub=[1-9]/.test(line))
      .map((line) => /id=(\d+)/.exec(line)![1]!);
    expect(ids).toHaveLength(1);
    await admin.client('KILL', 'ID', ids[0]!);
    await eventually(() => expect(a.brama.status('db').state).toBe('open'), 5000);
    expect(of(a.events, 'circuit_opened').map((e) => e.data)).toMatchObject([
      { origin: 'remote', cause: 'sync' },
    ]);
  });

  it('shares metadata JSON cannot hold without failing or degrading', async () => {
    fresh();
    const a = await join();
    const b = await join();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    a.brama.register('db', { metadata: { big: 10n, fn: () => 1, ok: 'yes' } });
    a.brama.register('loop', { metadata: cyclic });
    await a.store.flush();
    expect(a.store.degraded).toBe(false);
    b.brama.register('db');
    b.brama.register('loop');
    await b.store.flush();
    a.brama.configure('db', { maxAttempts: 2 });
    await eventually(() => expect(b.brama.status('db').metadata).toEqual({ big: '10', ok: 'yes' }));
    expect(b.brama.status('loop').metadata).toEqual({});
    expect(a.store.degraded).toBe(false);
  });

  it('an error about one command applies it locally without degrading the store', async () => {
    fresh();
    const redis = connect(url);
    clients.push(redis);
    const a = await join({ maxAttempts: 1 });
    a.brama.register('db');
    await a.store.flush();
    const key = connectionKeys(prefix, 'db', null).state;
    await redis.del(key);
    await redis.set(key, 'not a hash'); // every script on it now fails with WRONGTYPE
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      a.brama.failure('db', { reason: 'boom' });
      await a.store.flush();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(a.store.degraded).toBe(false);
    expect(of(a.events, 'store_degraded')).toHaveLength(0);
    expect(a.brama.status('db')).toMatchObject({ state: 'open', totalFailures: 1 });
    expect(warnings.some((w) => w.includes('WRONGTYPE'))).toBe(true);
  });

  it('a blocked event loop is not taken for an unresponsive Redis', async () => {
    fresh();
    const a = await join({ maxAttempts: 5 }, { commandTimeout: 200 });
    a.brama.register('db');
    await a.store.flush();
    for (let round = 0; round < 3; round++) {
      a.brama.failure('db');
      // The loop is busy for three times the timeout right after the command leaves: the
      // answer waits in the socket, and the watchdog's next tick runs late.
      const until = performance.now() + 600;
      while (performance.now() < until) {
        // busy
      }
      await a.store.flush();
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // a few more watchdog ticks
    expect(of(a.events, 'store_degraded')).toEqual([]);
    expect(a.brama.status('db')).toMatchObject({ totalFailures: 3, failureCount: 3 });
  });

  it('uses a given client without closing it', async () => {
    fresh();
    const client = connect(url);
    clients.push(client);
    const a = await join({}, { client });
    a.brama.register('db');
    a.brama.success('db');
    await a.store.flush();
    expect(a.brama.status('db').state).toBe('closed');
    await a.brama.close();
    members = members.filter((m) => m !== a);
    expect(await client.ping()).toBe('PONG');
  });
  it('coalesces one tick of reports into one command per connection, with every event', async () => {
    fresh();
    const client = connect(url);
    clients.push(client);
    const a = await join({ maxAttempts: 50 }, { client });
    const b = await join({ maxAttempts: 50 });
    for (const m of [a, b]) m.brama.register('db');
    a.brama.success('db'); // unknown → closed leaves on its own
    await flushAll();
    // Count the report scripts the store sends.
    const name = 'bramaV2Report';
    const script = Reflect.get(client, name) as (...args: unknown[]) => unknown;
    let reports = 0;
    Reflect.set(client, name, (...args: unknown[]) => {
      reports++;
      return Reflect.apply(script, client, args);
    });
    const before = of(a.events, 'failure').length;
    for (let i = 0; i < 40; i++) {
      if (i % 3 === 0) a.brama.success('db');
      else a.brama.failure('db', { reason: `f${i}` });
    }
    await a.store.flush();
    expect(reports).toBe(1);
    expect(of(a.events, 'failure').length - before).toBe(26);
    expect(a.brama.status('db')).toMatchObject({
      state: 'closed',
      totalFailures: 26,
      totalSuccesses: 15,
      failureCount: 0, // the last outcome (i = 39) is a success
      lastFailureReason: 'f38',
    });
    // Another process sees the same totals within the announce interval.
    await eventually(() =>
      expect(b.brama.status('db')).toMatchObject({ totalFailures: 26, totalSuccesses: 15 }),
    );
  });
  it('counters of reports that move no state reach every process without a read back', async () => {
    fresh();
    const client = connect(url);
    clients.push(client);
    const a = await join({ maxAttempts: 50 });
    const b = await join({ maxAttempts: 50 }, { client });
    for (const m of [a, b]) m.brama.register('db');
    a.brama.success('db'); // unknown → closed: announced in full (b reads it back once)
    await flushAll();
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));
    await new Promise((resolve) => setTimeout(resolve, 150)); // b's read-back is done
    const count = (name: string): (() => number) => {
      const script = Reflect.get(client, name) as (...args: unknown[]) => unknown;
      let calls = 0;
      Reflect.set(client, name, (...args: unknown[]) => {
        calls++;
        return Reflect.apply(script, client, args);
      });
      return () => calls;
    };
    const reads = count('bramaV2Read');
    // A burst of reports, each in its own tick: the first after the announcement is the
    // trailing one, announced by a's refresh once the interval has passed.
    for (let i = 0; i < 5; i++) {
      a.brama.failure('db', { reason: `f${i}` });
      await a.store.flush();
    }
    await eventually(() =>
      expect(b.brama.status('db')).toMatchObject({
        state: 'closed',
        failureCount: 5,
        totalFailures: 5,
        totalSuccesses: 1,
        lastFailureReason: 'f4',
      }),
    );
    // The same server time, in each process's clock (their offsets differ by a ms or so).
    const at = (m: Member): number => m.brama.status('db').lastFailureTime!;
    expect(Math.abs(at(b) - at(a))).toBeLessThanOrEqual(5);
    // Whole epoch ms, as with the memory store (the offset is rounded).
    expect([at(a), at(b)].every(Number.isInteger)).toBe(true);
    expect(reads()).toBe(0);
    // b reports too: a's view follows, and b's own view has a's counters as well.
    b.brama.success('db');
    await b.store.flush();
    await eventually(() => {
      for (const m of [a, b])
        expect(m.brama.status('db')).toMatchObject({ failureCount: 0, totalSuccesses: 2 });
    });
    expect(reads()).toBe(0);
  });

  it('wouldAdmit answers like isAvailable without taking or requesting a trial slot', async () => {
    fresh();
    const a = await join({ halfOpenProbes: 1, probeTimeout: 5_000 });
    const b = await join({ halfOpenProbes: 1, probeTimeout: 5_000 });
    for (const m of [a, b]) m.brama.register('db');
    await flushAll();
    setState(a.brama, 'db', 'half_open');
    await flushAll(); // a leases the fleet's one slot ahead of its callers
    await eventually(() => expect(b.brama.status('db').state).toBe('half_open'));
    expect(a.brama.wouldAdmit('db')).toBe(true);
    expect(a.brama.wouldAdmit('db')).toBe(true); // nothing was taken
    expect(b.brama.wouldAdmit('db')).toBe(false); // the fleet's slot is a's
    expect(a.brama.isAvailable('db')).toBe(true); // still there for a real call
    expect(a.brama.wouldAdmit('db')).toBe(false);
    // b asking never makes b lease: after a's call reports, a closes the circuit for all.
    for (let i = 0; i < 20; i++) expect(b.brama.wouldAdmit('db')).toBe(false);
    a.brama.success('db');
    await eventually(() => expect(b.brama.wouldAdmit('db')).toBe(true));
  });
  it("trips on the fleet's combined evidence: each process alone sees too little", async () => {
    fresh();
    const options = {
      tripPolicy: 'rate' as const,
      window: { calls: 20 },
      minimumCalls: 10,
      failureRateThreshold: 0.5,
    };
    const fleet = [await join(options), await join(options), await join(options)];
    for (const m of fleet) m.brama.register('db');
    await flushAll();
    // Each process: 2 successes, 2 failures (4 outcomes: below minimumCalls on its own).
    for (const m of fleet) {
      m.brama.success('db');
      m.brama.failure('db', { reason: 'timeout' });
      m.brama.success('db');
      m.brama.failure('db', { reason: 'timeout' });
      await m.store.flush();
    }
    // 12 outcomes fleet-wide, 6 failures: 50 % of at least 10 calls.
    for (const m of fleet) {
      await eventually(() => expect(m.brama.status('db').state).toBe('open'));
    }
    const opened = fleet.flatMap((m) => of(m.events, 'circuit_opened'));
    expect(opened.filter((e) => (e.data as { origin: string }).origin === 'local')).toHaveLength(1);
    expect((opened[0]!.data as { trip: unknown }).trip).toMatchObject({
      rule: 'failure_rate',
      threshold: 0.5,
    });
    // It tripped at the 10th outcome; the ones after it (while open) stay out of the window.
    expect(fleet[0]!.brama.status('db')).toMatchObject({ windowCalls: 10, failureRate: 0.5 });
  });

  it('closes after successThreshold trials and then ramps up, fleet-wide', async () => {
    fresh();
    const options = { maxAttempts: 1, successThreshold: 2, rampUpMs: 60_000, random: () => 0.5 };
    const a = await join(options);
    const b = await join(options);
    for (const m of [a, b]) m.brama.register('db');
    await flushAll();
    setState(a.brama, 'db', 'half_open');
    await flushAll();
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(true));
    a.brama.success('db');
    await flushAll();
    expect(a.brama.status('db').state).toBe('half_open'); // one of two
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(true));
    a.brama.success('db');
    await flushAll();
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));
    // Ramping up: half a minute in, a draw of 0.5 is refused; share grows from 0.
    expect(b.brama.isAvailable('db')).toBe(false);
    expect(a.brama.isAvailable('db')).toBe(false);
    a.brama.closeCircuit('db'); // ends the ramp-up everywhere
    await eventually(() => expect(b.brama.isAvailable('db')).toBe(true));
  });
});
