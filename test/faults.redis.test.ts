/**
 * Fault tests of fleet mode (`brama/redis`, PRODUCT.md §7): each test runs its own
 * `redis-server` child (no persistence, a free port) and kills it, restarts it empty, or pauses
 * it, and checks that callers never see an exception or a hang, that `store_degraded` /
 * `store_recovered` fire once, that the degraded policy applies, and that state reconciles.
 * Skipped when `redisUrl` is undefined (outside CI without REDIS_URL), like the other
 * `*.redis.test.ts` files; when not skipped, a redis-server that cannot start fails the test.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Brama,
  CircuitOpenError,
  isBramaError,
  type BramaEvent,
  type BramaEventType,
} from '../src/index.js';
import { createRedisStore, type DegradedPolicy, type RedisStore } from '../src/redis.js';
import { connectionKeys } from '../src/stores/redis/keys.js';
import { connect, redisUrl } from '../src/stores/redis/redis-test-support.js';
import { RedisServer } from './faults/redis-server.js';

const describeFaults = redisUrl === undefined ? describe.skip : describe;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMMAND_TIMEOUT = 300;
const RECOVERY_INTERVAL = 100;
/** No single call, flush or close may take longer than this: past it, it hangs. */
const DEADLINE_MS = 2_000;
/** How long a restarted or resumed Redis may take to be noticed and reconciled. */
const RECOVERY_MS = 5_000;

/** Rejects when `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it stops throwing, or fails with its last error after `ms`. */
async function eventually(check: () => void | Promise<void>, ms = DEADLINE_MS): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

const own = new Error('the function failed');

/** How a wrapped call ended: its own result, its own error, or a refusal. */
type Answer = 'ok' | 'own' | 'refused';

/**
 * Runs one wrapped call and classifies its result; fails on anything else (a Redis error, a
 * BramaError other than CircuitOpenError) and when it does not settle within the deadline.
 */
async function call(
  brama: Brama,
  identifier: string,
  outcome: 'ok' | 'fail' = 'ok',
  delayMs = 0,
): Promise<Answer> {
  try {
    const value = await within(
      brama.run(identifier, async () => {
        if (delayMs > 0) await sleep(delayMs);
        if (outcome === 'fail') throw own;
        return 'value';
      }),
      `run('${identifier}')`,
    );
    expect(value).toBe('value');
    return 'ok';
  } catch (error) {
    if (error === own) return 'own';
    if (error instanceof CircuitOpenError) return 'refused';
    throw error;
  }
}

interface Member {
  readonly brama: Brama;
  readonly store: RedisStore;
  readonly events: BramaEvent[];
  count(type: BramaEventType): number;
}

describeFaults('fleet mode under Redis faults', () => {
  let servers: RedisServer[] = [];
  let members: Member[] = [];
  let clients: Redis[] = [];
  let prefix = '';

  afterEach(async () => {
    try {
      const closing = members.map((m) => within(m.brama.close(), 'brama.close()'));
      members = [];
      for (const client of clients) client.disconnect();
      clients = [];
      await Promise.all(closing);
    } finally {
      await Promise.all(servers.map((s) => s.kill()));
      servers = [];
    }
  });

  async function startServer(port?: number): Promise<RedisServer> {
    const server = await RedisServer.start(port);
    servers.push(server);
    return server;
  }

  async function member(url: string, degradedPolicy: DegradedPolicy = 'local'): Promise<Member> {
    const store = createRedisStore({
      url,
      prefix,
      commandTimeout: COMMAND_TIMEOUT,
      recoveryInterval: RECOVERY_INTERVAL,
      degradedPolicy,
    });
    const brama = new Brama({ store, maxAttempts: 3, expiry: 60_000 });
    const events: BramaEvent[] = [];
    brama.subscribe((e) => void events.push(e), { events: ['store_degraded', 'store_recovered'] });
    const member: Member = {
      brama,
      store,
      events,
      count: (type) => events.filter((e) => e.type === type).length,
    };
    members.push(member);
    await within(store.ready(), 'store.ready()');
    expect(store.degraded).toBe(false);
    return member;
  }

  /** A plain client to look at (and change) what Redis holds. */
  function rawClient(url: string): Redis {
    const client = connect(url);
    clients.push(client);
    return client;
  }

  async function flush(...of: Member[]): Promise<void> {
    await within(Promise.all(of.map((m) => m.store.flush())), 'store.flush()');
  }

  /** Waits for the (single) `store_degraded` of `member` and checks its error. */
  async function degradedOnce(member: Member): Promise<BramaEvent> {
    await eventually(() => expect(member.count('store_degraded')).toBe(1));
    expect(member.store.degraded).toBe(true);
    const event = member.events.find((e) => e.type === 'store_degraded')!;
    const { error } = event.data as { error: unknown };
    expect(isBramaError(error, 'BRAMA_STORE_UNAVAILABLE'), String(error)).toBe(true);
    return event;
  }

  const fresh = (): void => {
    prefix = `brama-faults-${randomUUID()}`;
  };

  it('Redis killed mid-run: callers keep getting answers and failures trip the circuit locally', async () => {
    fresh();
    const server = await startServer();
    const a = await member(server.url);
    a.brama.register('db');
    a.brama.register('cache');
    for (let i = 0; i < 5; i++) expect(await call(a.brama, 'cache')).toBe('ok');
    await flush(a);
    expect(a.brama.status('cache').state).toBe('closed');

    // A steady stream of wrapped calls, reads and reports across the kill.
    const answers: Promise<Answer>[] = [];
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        answers.push(call(a.brama, 'cache', i % 3 === 0 ? 'fail' : 'ok', i % 4));
        expect(typeof a.brama.isAvailable('cache')).toBe('boolean');
        expect(() => a.brama.success('cache')).not.toThrow();
        await sleep(2);
      }
    })();
    await eventually(() => expect(answers.length).toBeGreaterThanOrEqual(20));
    await server.kill();
    await degradedOnce(a);
    const atDegraded = answers.length;
    await eventually(() => expect(answers.length).toBeGreaterThanOrEqual(atDegraded + 20));
    stop = true;
    await within(stream, 'the call stream');
    const settled = await Promise.all(answers);
    expect(settled.length).toBeGreaterThanOrEqual(40);
    for (const answer of settled) expect(['ok', 'own', 'refused']).toContain(answer);

    // Degraded, policy 'local': failures trip 'db' in this process.
    expect(a.brama.isAvailable('db')).toBe(true);
    for (let i = 0; i < 3; i++)
      expect(() => a.brama.failure('db', { reason: 'down' })).not.toThrow();
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);
    let ran = false;
    const refused = within(
      a.brama.run('db', () => {
        ran = true;
        return Promise.resolve('value');
      }),
      "run('db')",
    );
    await expect(refused).rejects.toBeInstanceOf(CircuitOpenError);
    expect(ran).toBe(false);
    expect(await call(a.brama, 'cache', 'fail')).toMatch(/own|refused/);
    expect(() => a.brama.openCircuit('cache', { reason: 'manual' })).not.toThrow();
    expect(a.brama.isAvailable('cache')).toBe(false);
    expect(() => a.brama.closeCircuit('cache')).not.toThrow();
    expect(a.brama.isAvailable('cache')).toBe(true);
    expect(() => a.brama.success('db')).not.toThrow();
    expect(a.brama.status('db').state).toBe('open'); // a report while open does not close it

    // An observation window over several failed recovery probes: still one store_degraded.
    await sleep(RECOVERY_INTERVAL * 6);
    expect(a.store.degraded).toBe(true);
    expect(a.count('store_degraded')).toBe(1);
    expect(a.count('store_recovered')).toBe(0);
  });

  it('Redis restarted empty: store_recovered fires and the open circuit is recreated in Redis', async () => {
    fresh();
    const server = await startServer();
    const a = await member(server.url);
    a.brama.register('db');
    a.brama.success('db');
    await flush(a);
    expect(a.brama.status('db').state).toBe('closed');

    await server.kill();
    await degradedOnce(a);
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    const local = a.brama.status('db');
    expect(local.state).toBe('open');

    const restarted = await startServer(server.port);
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.store.degraded).toBe(false);
    const recovered = a.events.find((e) => e.type === 'store_recovered')!;
    expect((recovered.data as { downtimeMs: number }).downtimeMs).toBeGreaterThan(0);
    expect(a.count('store_degraded')).toBe(1);

    // Reconciled before store_recovered: Redis lost the connection, the local view recreated it.
    const raw = rawClient(restarted.url);
    const key = connectionKeys(prefix, 'db', null).state;
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('open');
    expect(await within(raw.hget(key, 'totalFailures'), 'HGET totalFailures')).toBe('3');
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);

    // A process that registers afterwards adopts the open circuit, with the same open period.
    const b = await member(restarted.url);
    b.brama.register('db');
    await flush(b);
    const adopted = b.brama.status('db');
    expect(adopted.state).toBe('open');
    expect(b.brama.isAvailable('db')).toBe(false);
    expect(Math.abs(adopted.openUntil! - local.openUntil!)).toBeLessThan(1_000);
    expect(adopted.totalFailures).toBe(3);
  });

  it('Redis paused (SIGSTOP): degraded without a TCP close, calls answer at once, then reconciles on SIGCONT', async () => {
    fresh();
    const server = await startServer();
    const a = await member(server.url);
    const b = await member(server.url);
    a.brama.register('db');
    b.brama.register('db');
    await flush(a, b);
    a.brama.success('db');
    await flush(a);
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));

    server.pause();
    const pausedAt = performance.now();
    // A report that Redis will not answer while paused: the watchdog notices.
    a.brama.failure('db', { reason: 'slow' });
    expect(await call(a.brama, 'db')).toBe('ok');
    await degradedOnce(a);
    expect(performance.now() - pausedAt).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 10);
    expect(server.paused && server.alive).toBe(true); // nothing closed the connection
    const { error } = a.events.find((e) => e.type === 'store_degraded')!.data as {
      error: Error;
    };
    expect(error.message).toContain(`${COMMAND_TIMEOUT} ms`);

    // Degraded, policy 'local': answers come at once and failures trip the circuit locally.
    expect(await call(a.brama, 'db')).toBe('ok');
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);
    expect(await call(a.brama, 'db')).toBe('refused');

    // Another process changes the circuit; its command waits in the socket until Redis resumes.
    b.brama.openCircuit('db', { reason: 'maintenance', expiry: 300_000 });

    server.resume();
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.store.degraded).toBe(false);
    expect(a.count('store_degraded')).toBe(1);

    // Redis wins: A's view now holds the circuit B opened (a 300 s opening, not A's local 60 s).
    const raw = rawClient(server.url);
    const key = connectionKeys(prefix, 'db', null).state;
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('open');
    const totalFailures = Number(await within(raw.hget(key, 'totalFailures'), 'HGET'));
    await eventually(() => {
      const status = a.brama.status('db');
      expect(status.state).toBe('open');
      expect(status.openUntil! - Date.now()).toBeGreaterThan(200_000);
      expect(status.totalFailures).toBe(totalFailures);
    });

    // After the resume, changes made by another process reach A again.
    await eventually(() => expect(b.store.degraded).toBe(false), RECOVERY_MS);
    b.brama.closeCircuit('db', { reason: 'fixed' });
    await eventually(() => expect(a.brama.status('db').state).toBe('closed'));
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('closed');
  });

  it("policy 'allow' admits calls on an open circuit while degraded", async () => {
    fresh();
    const server = await startServer();
    const a = await member(server.url, 'allow');
    a.brama.register('db');
    a.brama.openCircuit('db');
    await flush(a);
    expect(a.brama.isAvailable('db')).toBe(false);

    await server.kill();
    await degradedOnce(a);
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await call(a.brama, 'db')).toBe('ok');
    expect(await call(a.brama, 'db', 'fail')).toBe('own');
    expect(a.brama.status('db').totalFailures).toBe(1); // outcomes are still recorded locally
  });

  it("policy 'refuse' refuses calls on a closed circuit while degraded, until Redis is back", async () => {
    fresh();
    const server = await startServer();
    const a = await member(server.url, 'refuse');
    a.brama.register('db');
    a.brama.success('db');
    await flush(a);
    expect(a.brama.status('db').state).toBe('closed');
    expect(a.brama.isAvailable('db')).toBe(true);

    await server.kill();
    await degradedOnce(a);
    expect(a.brama.status('db').state).toBe('closed');
    expect(a.brama.isAvailable('db')).toBe(false);
    expect(await call(a.brama, 'db')).toBe('refused');

    await startServer(server.port);
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await call(a.brama, 'db')).toBe('ok');
  });

  it('a process whose Redis dies mid-run has no unhandled rejection and exits by itself after close()', async () => {
    const built = ['dist/index.js', 'dist/redis/index.js'].filter(
      (file) => !existsSync(join(root, file)),
    );
    if (built.length > 0) {
      throw new Error(
        `dist/ is missing ${built.join(', ')}: run \`npm run build\` first ` +
          '(`npm test` builds before running the tests)',
      );
    }
    fresh();
    const server = await startServer();
    const child = spawn(process.execPath, [join(root, 'test/faults/kill-and-close.mjs')], {
      cwd: root,
      env: {
        ...process.env,
        FAULT_REDIS_URL: server.url,
        FAULT_REDIS_PID: String(server.pid),
        FAULT_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let closedAt: number | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (closedAt === null && stdout.includes('closed\n')) closedAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const { code, signal } = await exit.finally(() => clearTimeout(killer));
    const exitedAt = performance.now();
    const report = `exit code ${code}, signal ${signal}\nstdout:\n${stdout}\nstderr:\n${stderr}`;

    expect(signal, `killed: it did not exit by itself\n${report}`).toBeNull();
    expect(stderr, report).not.toContain('unhandled rejection');
    // Closing must not leave ioredis without an 'error' listener while it still reconnects: it
    // would print "[ioredis] Unhandled error event" to the console of the application.
    expect(stderr, report).not.toContain('Unhandled error event');
    expect(code, report).toBe(0);
    expect(closedAt, report).not.toBeNull();
    expect(exitedAt - closedAt!, report).toBeLessThan(3_000);
    await eventually(() => expect(server.alive).toBe(false)); // the child killed it mid-run
  });
});
