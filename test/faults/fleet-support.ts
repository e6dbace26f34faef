/**
 * Shared setup of the fleet fault tests (test-only): deadlines and polling, a classified wrapped
 * call, and a fixture that starts `redis-server` processes and fault proxies, creates members
 * (one Brama with its own Redis store, as one process of a fleet would have), and stops and
 * cleans exactly what it started.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { expect } from 'vitest';
import {
  Brama,
  CircuitOpenError,
  isBramaError,
  type BramaEvent,
  type BramaEventType,
  type BramaOptions,
} from '../../src/index.js';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../../src/redis.js';
import { connect, deleteKeys } from '../../src/stores/redis/redis-test-support.js';
import { FaultProxy } from './proxy.js';
import { RedisServer, type RedisServerOptions } from './redis-server.js';

/** No single call, flush or close may take longer than this: past it, it hangs. */
export const DEADLINE_MS = 2_000;
/** How long a healed fault may take to be noticed and reconciled ("a few seconds"). */
export const RECOVERY_MS = 5_000;
/** The store settings of fault tests: faults are noticed fast. */
export const COMMAND_TIMEOUT = 300;
export const RECOVERY_INTERVAL = 100;

/** Rejects when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
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
export async function eventually(
  check: () => void | Promise<void>,
  ms = DEADLINE_MS,
): Promise<void> {
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
export type Answer = 'ok' | 'own' | 'refused';

/**
 * Runs one wrapped call and classifies its result; fails on anything else (a Redis error, a
 * BramaError other than CircuitOpenError) and when it does not settle within the deadline.
 */
export async function call(
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

/** One process of a fleet: a registry with its own Redis store and every event it emitted. */
export interface Member {
  readonly brama: Brama;
  readonly store: RedisStore;
  readonly events: BramaEvent[];
  count(type: BramaEventType): number;
  /** Waits until every command sent so far is answered and applied. */
  flush(): Promise<void>;
}

/**
 * Servers, proxies, members and raw clients of one test; {@link dispose} stops them all, and
 * deletes the test's keys from `shared` (a Redis other tests use too) when given.
 */
export class FaultFleet {
  readonly prefix = `brama-faults-${randomUUID()}`;

  constructor(private readonly shared?: string) {}

  private readonly servers: RedisServer[] = [];
  private readonly proxies: FaultProxy[] = [];
  private readonly members: Member[] = [];
  private readonly clients: Redis[] = [];

  /** A `redis-server` of this test (a free port, no persistence unless `options.dir`). */
  async server(port?: number, options?: RedisServerOptions): Promise<RedisServer> {
    const server = await RedisServer.start(port, options);
    this.servers.push(server);
    return server;
  }

  /** Restarts `server` (same port and options): empty, or from its last SAVE with `dir`. */
  async restart(server: RedisServer): Promise<RedisServer> {
    const next = await server.restart();
    this.servers.push(next);
    return next;
  }

  /** A fault proxy in front of `server`. */
  async proxy(server: RedisServer): Promise<FaultProxy> {
    const proxy = await FaultProxy.start(server.port);
    this.proxies.push(proxy);
    return proxy;
  }

  /** A new member on `url` (or a given client), ready and not degraded. */
  async member(
    target: string | Redis,
    options: Omit<BramaOptions, 'store'> = {},
    store: Omit<RedisStoreOptions, 'url' | 'client' | 'prefix'> = {},
  ): Promise<Member> {
    const created = createRedisStore({
      ...(typeof target === 'string' ? { url: target } : { client: target }),
      prefix: this.prefix,
      commandTimeout: COMMAND_TIMEOUT,
      recoveryInterval: RECOVERY_INTERVAL,
      ...store,
    });
    const brama = new Brama({ maxAttempts: 3, expiry: 60_000, ...options, store: created });
    const events: BramaEvent[] = [];
    brama.subscribe((e) => void events.push(e));
    const member: Member = {
      brama,
      store: created,
      events,
      count: (type) => events.filter((e) => e.type === type).length,
      flush: () => within(created.flush(), 'store.flush()'),
    };
    this.members.push(member);
    await within(created.ready(), 'store.ready()');
    expect(created.degraded).toBe(false);
    return member;
  }

  /** A plain client to look at (and change) what Redis holds. */
  raw(url: string): Redis {
    const client = connect(url);
    this.clients.push(client);
    return client;
  }

  /** A client for a member to use (closed with the fixture). */
  client(url: string, options: RedisOptions = {}): Redis {
    const client = new Redis(url, options);
    client.on('error', () => {});
    this.clients.push(client);
    return client;
  }

  /** Closes members and clients, then stops proxies and servers. */
  async dispose(): Promise<void> {
    try {
      const closing = this.members.splice(0).map((m) => within(m.brama.close(), 'close()'));
      for (const client of this.clients.splice(0)) client.disconnect();
      await Promise.all(closing);
    } finally {
      await Promise.all(this.proxies.splice(0).map((p) => p.close()));
      await Promise.all(this.servers.splice(0).map((s) => s.kill()));
      if (this.shared !== undefined) await deleteKeys(this.shared, this.prefix);
    }
  }
}

/** Waits for the one `store_degraded` of `member` and checks its error. */
export async function degradedOnce(member: Member, ms = DEADLINE_MS): Promise<BramaEvent> {
  await eventually(() => expect(member.count('store_degraded')).toBe(1), ms);
  expect(member.store.degraded).toBe(true);
  const event = member.events.find((e) => e.type === 'store_degraded')!;
  const { error } = event.data as { error: unknown };
  expect(isBramaError(error, 'BRAMA_STORE_UNAVAILABLE'), String(error)).toBe(true);
  return event;
}

/** The types of `store_degraded` and `store_recovered` events, in order. */
export function healthEvents(member: Member): string[] {
  return member.events
    .filter((e) => e.type === 'store_degraded' || e.type === 'store_recovered')
    .map((e) => e.type);
}
