/**
 * Convergence of fleet mode under faults (the "Convergence" promise of fleet mode): every test
 * starts its own `redis-server` (and fault proxies: lost replies, reset connections, a black
 * hole) and checks that each outcome counts exactly once, that every view ends where Redis is,
 * and that degraded/recovered events alternate. Skipped like the other `*.redis.test.ts` files
 * when Redis tests are off; when they are on, a redis-server that cannot start fails the test.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Brama, isBramaError, type BramaEvent } from '../src/index.js';
import { createRedisStore } from '../src/redis.js';
import { connectionKeys } from '../src/stores/redis/keys.js';
import { redisUrl } from '../src/stores/redis/redis-test-support.js';
import {
  COMMAND_TIMEOUT,
  degradedOnce,
  eventually,
  FaultFleet,
  healthEvents,
  RECOVERY_INTERVAL,
  RECOVERY_MS,
  within,
} from './faults/fleet-support.js';
import { freePort, RedisServer } from './faults/redis-server.js';

const describeFaults = redisUrl === undefined ? describe.skip : describe;

describeFaults('fleet convergence under faults', () => {
  let fleet: FaultFleet;
  beforeEach(() => {
    fleet = new FaultFleet();
  });
  afterEach(() => fleet.dispose());

  const stateKey = (identifier: string, scope: string | null = null): string =>
    connectionKeys(fleet.prefix, identifier, scope).state;

  it('a report whose reply was lost counts once when ioredis resends it after a reset', async () => {
    const server = await fleet.server();
    const proxy = await fleet.proxy(server);
    // A long command timeout: the reset, not the watchdog, makes ioredis resend.
    const a = await fleet.member(proxy.url, { maxAttempts: 5 }, { commandTimeout: 10_000 });
    const raw = fleet.raw(server.url);
    a.brama.register('db');
    await a.flush();
    proxy.dropReplies();
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    await eventually(async () => expect(await raw.hget(stateKey('db'), 'totalFailures')).toBe('3'));
    proxy.reset(); // replies lost, connection reset: ioredis resends the three reports
    proxy.heal();
    await eventually(() => expect(a.brama.status('db').totalFailures).toBe(3), RECOVERY_MS);
    await a.flush();
    expect(await raw.hgetall(stateKey('db'))).toMatchObject({
      state: 'closed',
      failureCount: '3',
      totalFailures: '3',
    });
    expect(a.brama.status('db')).toMatchObject({ state: 'closed', failureCount: 3 });
  });

  it('reports the client gave up on are replayed on recovery and still count once', async () => {
    const server = await fleet.server();
    const proxy = await fleet.proxy(server);
    // No retries: a reset rejects the commands in flight (which Redis has already applied).
    const client = fleet.client(proxy.url, { maxRetriesPerRequest: 0 });
    const a = await fleet.member(client, { maxAttempts: 5 });
    const raw = fleet.raw(server.url);
    a.brama.register('db');
    await a.flush();
    proxy.dropReplies();
    a.brama.failure('db', { reason: 'one' });
    a.brama.failure('db', { reason: 'two' });
    await eventually(async () => expect(await raw.hget(stateKey('db'), 'totalFailures')).toBe('2'));
    proxy.reset();
    await degradedOnce(a);
    a.brama.failure('db', { reason: 'while degraded' }); // counted offline, added on recovery
    proxy.heal();
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    await a.flush();
    expect(await raw.hget(stateKey('db'), 'totalFailures')).toBe('3');
    expect(await raw.hget(stateKey('db'), 'state')).toBe('closed'); // replays never trip
    expect(a.brama.status('db').totalFailures).toBe(3);
    expect(healthEvents(a)).toEqual(['store_degraded', 'store_recovered']);
  });

  it('keys flushed while open: recreated from the view, a trial after the period, closed on success', async () => {
    const server = await fleet.server();
    const options = { maxAttempts: 1, expiry: 400, halfOpenProbes: 1 };
    const a = await fleet.member(server.url, options);
    const b = await fleet.member(server.url, options);
    const raw = fleet.raw(server.url);
    for (const m of [a, b]) m.brama.register('db');
    await Promise.all([a.flush(), b.flush()]);
    a.brama.failure('db', { reason: 'down' });
    await a.flush();
    await eventually(() => expect(b.brama.status('db').state).toBe('open'));
    await raw.flushall();
    const evalsBefore = await evalCalls(raw);
    // Refused while open (no I/O), then asking for a trial once the period has passed.
    let admitted = false;
    let refused = 0;
    for (let i = 0; i < 600 && !admitted; i++) {
      admitted = a.brama.isAvailable('db');
      if (!admitted) refused++;
      if (i % 2 === 0) await sleep(2);
    }
    if (!admitted)
      await eventually(() => expect(a.brama.isAvailable('db')).toBe(true), RECOVERY_MS);
    // At most one lease request in flight, with back-off: not one script per refused call.
    expect(refused).toBeGreaterThan(100);
    expect((await evalCalls(raw)) - evalsBefore).toBeLessThan(40);
    a.brama.success('db');
    await a.flush();
    expect(await raw.hget(stateKey('db'), 'state')).toBe('closed');
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));
    expect(b.brama.isAvailable('db')).toBe(true);
  });

  it('a keyTtl shorter than the open period does not lose the open circuit', async () => {
    const server = await fleet.server();
    const a = await fleet.member(server.url, { maxAttempts: 1, expiry: 1_500 }, { keyTtl: 200 });
    const raw = fleet.raw(server.url);
    a.brama.register('db');
    a.brama.failure('db');
    await a.flush();
    await sleep(800); // longer than keyTtl after the last activity, shorter than the period
    expect(await raw.hget(stateKey('db'), 'state')).toBe('open');
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(true), RECOVERY_MS);
    a.brama.success('db');
    await a.flush();
    expect(a.brama.status('db').state).toBe('closed');
    expect(await raw.hget(stateKey('db'), 'state')).toBe('closed');
  });

  it('Redis restarted from an older snapshot: Redis wins in every view', async () => {
    const server = await fleet.server(undefined, { dir: RedisServer.tempDir() });
    const a = await fleet.member(server.url);
    const b = await fleet.member(server.url);
    for (const m of [a, b]) m.brama.register('db');
    a.brama.success('db');
    await Promise.all([a.flush(), b.flush()]);
    const raw = fleet.raw(server.url);
    await raw.save(); // the snapshot: closed
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    await a.flush();
    await eventually(() => expect(b.brama.status('db').state).toBe('open'));
    await fleet.restart(server); // back from the snapshot: closed, an older version
    for (const m of [a, b]) {
      await eventually(() => expect(m.count('store_recovered')).toBe(1), RECOVERY_MS);
      await m.flush();
      expect(m.brama.status('db')).toMatchObject({ state: 'closed', totalFailures: 0 });
      expect(m.brama.isAvailable('db')).toBe(true);
      expect(healthEvents(m)).toEqual(['store_degraded', 'store_recovered']);
    }
    // And the fleet goes on from there: a trip is seen everywhere again.
    for (let i = 0; i < 3; i++) b.brama.failure('db');
    await b.flush();
    await eventually(() => expect(a.brama.status('db').state).toBe('open'));
  });

  it('out of memory: degraded once, silent failed recoveries, refuse holds, then recovered once', async () => {
    const server = await fleet.server();
    const a = await fleet.member(server.url);
    const b = await fleet.member(server.url, {}, { degradedPolicy: 'refuse' });
    const raw = fleet.raw(server.url);
    for (const m of [a, b]) m.brama.register('db');
    await Promise.all([a.flush(), b.flush()]);
    await raw.config('SET', 'maxmemory-policy', 'noeviction');
    await raw.config('SET', 'maxmemory', '1');
    a.brama.failure('db');
    b.brama.failure('db');
    await Promise.all([degradedOnce(a), degradedOnce(b)]);
    // A readiness probe sees it: the store works on local state.
    expect(a.brama.health()).toMatchObject({ status: 'degraded', storeDegraded: true });
    // PING answers under OOM, the resync does not: recovery attempts fail for a while.
    const until = performance.now() + 20 * RECOVERY_INTERVAL;
    while (performance.now() < until) {
      expect(b.brama.isAvailable('db')).toBe(false);
      await sleep(5);
    }
    await raw.config('SET', 'maxmemory', '0');
    for (const m of [a, b]) {
      await eventually(() => expect(m.count('store_recovered')).toBe(1), RECOVERY_MS);
      expect(healthEvents(m)).toEqual(['store_degraded', 'store_recovered']);
    }
    expect(b.brama.isAvailable('db')).toBe(true);
    await Promise.all([a.flush(), b.flush()]);
    expect(await raw.hget(stateKey('db'), 'totalFailures')).toBe('2'); // both, once each
    expect(a.brama.health()).toMatchObject({ status: 'ok', storeDegraded: false });
  });

  it('a black hole (bytes lost, connection open): degraded, then recovered soon after it heals', async () => {
    const server = await fleet.server();
    const proxy = await fleet.proxy(server);
    const a = await fleet.member(proxy.url, { maxAttempts: 10 });
    const raw = fleet.raw(server.url);
    a.brama.register('db');
    await a.flush();
    proxy.blackhole();
    a.brama.failure('db', { reason: 'in the hole' });
    await degradedOnce(a, COMMAND_TIMEOUT * 4);
    a.brama.failure('db', { reason: 'offline 1' });
    a.brama.failure('db', { reason: 'offline 2' });
    await sleep(1_000); // several recovery probes into the hole
    expect(a.store.degraded).toBe(true);
    proxy.heal();
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    a.brama.failure('db', { reason: 'after' });
    await a.flush();
    expect(await raw.hget(stateKey('db'), 'totalFailures')).toBe('4');
    expect(a.brama.status('db').totalFailures).toBe(4);
    expect(healthEvents(a)).toEqual(['store_degraded', 'store_recovered']);
  });

  it.each([
    ['for a moment (a heartbeat lost)', 1_200],
    ['for good (the subscription is replaced)', 3_500],
  ])('a subscription that silently stops delivering %s is noticed and read back', async (_, ms) => {
    const server = await fleet.server();
    const commands = await fleet.proxy(server);
    const subscription = await fleet.proxy(server);
    // The subscription takes its own network path: the client's duplicate goes through it.
    const client = fleet.client(commands.url);
    client.duplicate = () => fleet.client(subscription.url);
    const a = await fleet.member(client);
    const b = await fleet.member(server.url);
    for (const m of [a, b]) m.brama.register('db');
    await Promise.all([a.flush(), b.flush()]);
    await sleep(1_500); // heartbeats flowing
    subscription.blackhole();
    b.brama.openCircuit('db', { reason: 'maintenance' });
    await b.flush();
    await sleep(ms);
    expect(a.brama.isAvailable('db')).toBe(true); // the announcement was lost
    subscription.heal();
    await eventually(() => expect(a.brama.isAvailable('db')).toBe(false), RECOVERY_MS);
    expect(a.store.degraded).toBe(false);
    const opened = a.events.filter((e) => e.type === 'circuit_opened');
    expect(opened.map((e) => e.data)).toMatchObject([{ origin: 'remote' }]);
  });

  it('unregister while degraded: the delete is replayed before a new registration', async () => {
    const server = await fleet.server();
    const a = await fleet.member(server.url, { maxAttempts: 1 });
    const raw = fleet.raw(server.url);
    a.brama.register('db');
    a.brama.register('gone');
    a.brama.failure('db');
    a.brama.failure('gone');
    await a.flush();
    server.pause();
    a.brama.success('db'); // unanswered: the watchdog degrades the store
    await degradedOnce(a);
    expect(a.brama.unregister('db')).toBe(true);
    expect(a.brama.unregister('gone')).toBe(true);
    a.brama.register('db');
    server.resume();
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    await a.flush();
    expect(await raw.exists(stateKey('gone'))).toBe(0);
    expect(await raw.hgetall(stateKey('db'))).toMatchObject({
      state: 'unknown',
      totalFailures: '0',
    });
    expect(a.brama.status('db')).toMatchObject({ state: 'unknown', totalFailures: 0 });
  });

  it('a closed port: one warning naming the URL (no password) and the cause, and the cause on the event', async () => {
    const port = await freePort();
    const url = `redis://app:s3cret@127.0.0.1:${port}/0`;
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const store = createRedisStore({
        url,
        prefix: fleet.prefix,
        commandTimeout: COMMAND_TIMEOUT,
        recoveryInterval: RECOVERY_INTERVAL,
      });
      const brama = new Brama({ store });
      const events: BramaEvent[] = [];
      brama.subscribe((e) => void events.push(e), { events: ['store_degraded'] });
      await within(store.ready(), 'ready()');
      await eventually(() => expect(events).toHaveLength(1));
      await sleep(5 * RECOVERY_INTERVAL);
      await within(brama.close(), 'close()');
      expect(events).toHaveLength(1);
      const { error } = events[0]!.data as { error: Error };
      expect(isBramaError(error, 'BRAMA_STORE_UNAVAILABLE')).toBe(true);
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).toContain('ECONNREFUSED');
      expect(error.message).not.toContain('s3cret');
      expect(error.cause).toBeInstanceOf(Error);
      const ours = warnings.filter((w) => w.message.startsWith('brama: cannot use Redis'));
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toContain(`redis://app:***@127.0.0.1:${port}/0`);
      expect(ours[0]!.message).toContain('ECONNREFUSED');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('Redis restarted empty: the most severe state wins and outcomes counted while degraded are added', async () => {
    const server = await fleet.server();
    const a = await fleet.member(server.url, { maxAttempts: 3 });
    const b = await fleet.member(server.url, { maxAttempts: 3 });
    for (const m of [a, b]) m.brama.register('db');
    a.brama.failure('db');
    a.brama.failure('db');
    await a.flush();
    await eventually(() => expect(b.brama.status('db').totalFailures).toBe(2));
    await server.kill();
    await Promise.all([degradedOnce(a), degradedOnce(b)]);
    a.brama.failure('db', { reason: 'a saw it fail' }); // a trips locally
    expect(a.brama.status('db').state).toBe('open');
    b.brama.success('db'); // b saw a success
    b.brama.success('db');
    const restarted = await fleet.restart(server);
    for (const m of [a, b])
      await eventually(() => expect(m.count('store_recovered')).toBe(1), RECOVERY_MS);
    await Promise.all([a.flush(), b.flush()]);
    const rebuilt = await fleet.raw(restarted.url).hgetall(stateKey('db'));
    expect(rebuilt).toMatchObject({
      state: 'open',
      failureCount: '3',
      totalFailures: '3',
      totalSuccesses: '2',
      lastFailureReason: 'a saw it fail',
    });
    for (const m of [a, b]) {
      await eventually(() =>
        expect(m.brama.status('db')).toMatchObject({
          state: 'open',
          totalFailures: 3,
          totalSuccesses: 2,
        }),
      );
    }
  });

  it('flush() waits for a reconciliation of thousands of connections to finish', async () => {
    const server = await fleet.server();
    const a = await fleet.member(server.url);
    const count = 3_000;
    for (let i = 0; i < count; i++) a.brama.register(`c${i}`);
    await within(a.flush(), 'flush', 10_000);
    await server.kill();
    await degradedOnce(a);
    const restarted = await fleet.restart(server);
    await eventually(() => expect(a.store.degraded).toBe(false), RECOVERY_MS);
    await within(a.store.flush(), 'flush after recovery', 20_000);
    const raw = fleet.raw(restarted.url);
    let found = 0;
    for (let i = 0; i < count; i += 500) {
      const keys = Array.from({ length: 500 }, (_, j) => stateKey(`c${i + j}`));
      found += await raw.exists(...keys);
    }
    expect(found).toBe(count);
    expect(a.count('store_recovered')).toBe(1);
  });
});

/** How many EVALSHA and EVAL commands the server has run (INFO commandstats). */
async function evalCalls(raw: import('ioredis').Redis): Promise<number> {
  const info = await raw.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm))
    calls += Number(match[1]);
  return calls;
}
