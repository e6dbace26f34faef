/**
 * Fleet mode across real processes: several Node processes, each with its own
 * Brama and Redis store (test/fleet/worker.mjs, running the BUILT package), share one circuit
 * through one Redis and one prefix. The same suite runs twice: against one Redis (REDIS_URL; in
 * CI the default local one, where an unreachable Redis fails these tests) and against a 3-master
 * Redis Cluster the suite starts on loopback (the workers pass an ioredis Cluster as `client`),
 * where it also spreads connections over the masters and kills one master mid-run.
 * Needs `npm run build` first (`npm test` builds).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionKeys } from '../src/stores/redis/keys.js';
import { connect, deleteKeys, redisUrl } from '../src/stores/redis/redis-test-support.js';
import { RedisCluster } from './faults/redis-cluster.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKER = join(root, 'test/fleet/worker.mjs');
const BUILT = ['dist/index.js', 'dist/redis/index.js'];
const ID = 'db';
/** How long a worker may take to start, answer a command, or exit after close. */
const STEP_MS = 5_000;
/** How long an announced change may take to reach every process. */
const PROPAGATION_MS = 2_000;

const describeRedis = redisUrl === undefined ? describe.skip : describe;

/** The parts of a ConnectionStatus these tests read. */
interface Status {
  readonly state: string;
  readonly failureCount: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  readonly openedAt: number | null;
  readonly openUntil: number | null;
}

/** An event as a worker reports it (worker.mjs). */
interface WorkerEvent {
  readonly type: string;
  readonly identifier: string | null;
  readonly origin: 'local' | 'remote' | null;
  readonly cause: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly reason: string | null;
  readonly error: string | null;
  readonly state: string | null;
  readonly failureCount: number | null;
  readonly totalFailures: number | null;
}

interface Reply {
  readonly id?: number;
  readonly ok?: boolean;
  readonly result?: unknown;
  readonly error?: string;
  readonly ready?: boolean;
  readonly degraded?: boolean;
  readonly event?: WorkerEvent;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One child process of the fleet and its IPC conversation. */
class Member {
  readonly events: WorkerEvent[] = [];
  readonly exited: Promise<Exit>;
  readonly ready: Promise<{ degraded: boolean }>;
  private stderr = '';
  private seq = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private exit: Exit | null = null;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.resume(); // the worker prints nothing; never let a full pipe block it
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        const error = new Error(`${this.name} exited (${code ?? signal}): ${this.stderr}`);
        for (const pending of this.waiting.values()) pending.reject(error);
        this.waiting.clear();
        resolve(this.exit);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (message: Reply) => {
        if (message.event) this.events.push(message.event);
        else if (message.ready) resolve({ degraded: message.degraded === true });
        else if (typeof message.id === 'number') {
          const pending = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.ok) pending?.resolve(message.result);
          else pending?.reject(new Error(`${this.name}: ${message.error}`));
        }
      });
      void this.exited.then(() => reject(new Error(`${this.name} exited before ready`)));
      child.on('error', reject);
    });
    this.ready.catch(() => {}); // awaited by spawn(); never an unhandled rejection meanwhile
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Sends a command and resolves with its result; rejects on error, exit or timeout. */
  call<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = STEP_MS): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, cmd, identifier: ID, ...args }, (error) => {
        if (error === null) return;
        this.waiting.get(id)?.reject(error);
        this.waiting.delete(id);
      });
    });
  }

  /** The events of one type, optionally only those of one origin. */
  of(type: string, origin?: 'local' | 'remote'): WorkerEvent[] {
    return this.events.filter(
      (e) => e.type === type && (origin === undefined || e.origin === origin),
    );
  }

  /** Closes the worker's Brama and waits for the process to end by itself. */
  async close(): Promise<Exit> {
    await this.call('close');
    return within(
      this.exited,
      `${this.name} to exit by itself after close(); stderr: ${this.stderr}`,
    );
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** stderr so far, for failure messages. */
  get log(): string {
    return this.stderr;
  }
}

/** `promise`, or a rejection naming `what` after {@link STEP_MS}. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${STEP_MS} ms for ${what}`)), STEP_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the fleet keeps its state: one Redis, or a cluster the suite starts. */
interface Backend {
  readonly name: string;
  /** The cluster, when the backend is one (started in beforeAll). */
  readonly cluster: () => RedisCluster | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What a worker connects to. */
  target(): { url: string } | { cluster: { host: string; port: number }[] };
  /** A client to read what the fleet wrote. */
  client(): Redis | Cluster;
  /** Deletes the keys of `prefix` (a cluster of its own needs nothing). */
  cleanup(prefix: string): Promise<void>;
}

const oneRedis: Backend = {
  name: 'one Redis',
  cluster: () => null,
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  target: () => ({ url: redisUrl! }),
  client: () => connect(redisUrl!),
  cleanup: (prefix) => deleteKeys(redisUrl!, prefix),
};

let started: RedisCluster | null = null;
const redisCluster: Backend = {
  name: 'Redis Cluster, 3 masters',
  cluster: () => started,
  async start() {
    started = await RedisCluster.start();
  },
  async stop() {
    await started?.stop();
    started = null;
  },
  target: () => ({ cluster: started!.startupNodes }),
  client() {
    const client = new Cluster(started!.startupNodes, {
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    client.on('error', () => {});
    return client;
  },
  cleanup: () => Promise.resolve(),
};

describeRedis.each([oneRedis, redisCluster])('fleet mode across processes: $name', (backend) =>
  fleetSuite(backend),
);

function fleetSuite(backend: Backend): void {
  let prefix = '';
  let members: Member[] = [];
  let redis: Redis | Cluster | null = null;

  beforeAll(async () => {
    await backend.start();
  }, 30_000);

  afterAll(async () => {
    await backend.stop();
  });

  beforeAll(() => {
    const missing = BUILT.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) {
      throw new Error(
        `dist/ is missing ${missing.join(', ')}: run \`npm run build\` first ` +
          '(`npm test` builds before running the tests)',
      );
    }
  });

  afterEach(async () => {
    // A test that failed half-way leaves processes behind: end them.
    for (const m of members) m.kill();
    await Promise.all(members.map((m) => m.exited));
    members = [];
    await redis?.quit();
    redis = null;
    if (prefix) await backend.cleanup(prefix);
    prefix = '';
  });

  /** Starts `count` processes on a fresh prefix (the first call of a test) and waits for them. */
  async function spawn(count: number, options: Record<string, unknown>): Promise<Member[]> {
    if (!prefix) prefix = `brama-test-${randomUUID()}`;
    const started = Array.from({ length: count }, () => {
      const name = `worker ${members.length + 1}`;
      const child = fork(WORKER, [JSON.stringify({ ...backend.target(), prefix, options })], {
        cwd: root,
        execArgv: [], // not the test runner's flags
        silent: true,
        serialization: 'json',
      });
      const member = new Member(name, child);
      members.push(member);
      return member;
    });
    for (const m of started) {
      const { degraded } = await within(m.ready, `${m.name} to start`);
      expect(degraded, `${m.name} could not reach Redis (${backend.name}): ${m.log}`).toBe(false);
    }
    return started;
  }

  /** The connection's hash in Redis, read directly. */
  async function redisState(): Promise<Record<string, string>> {
    redis ??= backend.client();
    return redis.hgetall(connectionKeys(prefix, ID, null).state);
  }

  const statuses = (fleet: Member[], cmd = 'flush'): Promise<Status[]> =>
    Promise.all(fleet.map((m) => m.call<Status>(cmd)));

  /** Every process's local view reaches `state` within the propagation deadline. */
  async function allReach(fleet: Member[], state: string): Promise<Status[]> {
    const seen = await Promise.all(
      fleet.map((m) => m.call<Status>('until', { state, timeoutMs: PROPAGATION_MS })),
    );
    expect(
      seen.map((s) => s.state),
      'every process sees the state',
    ).toEqual(fleet.map(() => state));
    return seen;
  }

  /** Registers the connection everywhere and waits until each view is loaded from Redis. */
  async function registerAll(fleet: Member[]): Promise<void> {
    await Promise.all(fleet.map((m) => m.call('register')));
    await statuses(fleet);
  }

  /** Closes every process and checks that each one exits by itself, with code 0. */
  async function closeAll(fleet = members): Promise<void> {
    const exits = await Promise.all(fleet.map((m) => m.close()));
    for (const [i, exit] of exits.entries()) {
      expect(exit, `${fleet[i]!.name} exit; stderr: ${fleet[i]!.log}`).toEqual({
        code: 0,
        signal: null,
      });
    }
  }

  /** No process lost Redis during the test (that would make it a test of degraded mode). */
  function expectHealthy(fleet = members): void {
    for (const m of fleet) expect(m.of('store_degraded'), `${m.name} degraded`).toEqual([]);
  }

  /** A start barrier: far enough ahead that every process has the command before it. */
  const soon = (): number => Date.now() + 150;

  it('counts every one of N x M concurrent failures (4 processes x 25)', async () => {
    const fleet = await spawn(4, { maxAttempts: 1000, expiry: 60_000 });
    await registerAll(fleet);

    const at = soon();
    const last = await Promise.all(
      fleet.map((m, i) => m.call<Status>('failures', { count: 25, batch: 3, at, tag: `w${i}` })),
    );

    const hash = await redisState();
    expect(hash).toMatchObject({ state: 'closed', totalFailures: '100', failureCount: '100' });
    // The process whose report Redis ran last got the final count in its reply.
    expect(Math.max(...last.map((s) => s.totalFailures))).toBe(100);
    for (const s of last) expect(s.state).toBe('closed');

    // A process joining now adopts the exact count.
    const [late] = await spawn(1, { maxAttempts: 1000, expiry: 60_000 });
    await late!.call('register');
    expect(await late!.call<Status>('flush')).toMatchObject({
      state: 'closed',
      totalFailures: 100,
      failureCount: 100,
    });
    expect((await redisState()).totalFailures).toBe('100');

    expectHealthy();
    await closeAll();
  });

  it('trips exactly once: one local circuit_opened, one remote in every other process', async () => {
    const maxAttempts = 10;
    const fleet = await spawn(4, { maxAttempts, expiry: 60_000 });
    await registerAll(fleet);

    const at = soon();
    await Promise.all(
      fleet.map((m, i) => m.call('failures', { count: 25, batch: 2, at, tag: `w${i}` })),
    );
    await allReach(fleet, 'open');
    // Every report has been answered and applied; give straggling announcements a last chance
    // to show up as (wrong) extra events before counting.
    await statuses(fleet);

    const story = fleet
      .map(
        (m) =>
          `${m.name}: ${m.events.map((e) => `${e.type}(${e.origin} ${e.cause} ${e.from}>${e.to})`).join(', ')}`,
      )
      .join('\n');
    const local = fleet.flatMap((m) => m.of('circuit_opened', 'local'));
    expect(local, `exactly one process caused the trip:\n${story}`).toHaveLength(1);
    expect(local[0], story).toMatchObject({
      cause: 'failure',
      to: 'open',
      state: 'open',
      failureCount: maxAttempts,
      totalFailures: maxAttempts,
    });
    const tripper = fleet.find((m) => m.of('circuit_opened', 'local').length === 1)!;
    for (const m of fleet) {
      const opened = m.of('circuit_opened');
      if (m === tripper) {
        expect(opened, `${m.name} (the tripper):\n${story}`).toHaveLength(1);
      } else {
        expect(opened, `${m.name} saw the trip once, as remote:\n${story}`).toHaveLength(1);
        expect(opened[0], story).toMatchObject({ origin: 'remote', to: 'open', state: 'open' });
      }
      // One opening, and nothing after it (no re-open, no close). A process may also learn of
      // the trip before it heard of unknown → closed, so only the end of the story is fixed.
      const states = m.of('state_change').map((e) => e.to);
      expect(
        states.filter((s) => s === 'open'),
        `${m.name}:\n${story}`,
      ).toHaveLength(1);
      expect(states.at(-1), `${m.name}:\n${story}`).toBe('open');
    }

    const hash = await redisState();
    expect(hash).toMatchObject({
      state: 'open',
      openings: '1',
      failureCount: String(maxAttempts),
      totalFailures: '100',
    });
    expectHealthy();
    await closeAll();
  });

  it('admits at most halfOpenProbes trials fleet-wide once the open period ends', async () => {
    const halfOpenProbes = 2;
    const options = { maxAttempts: 3, expiry: 300, halfOpenProbes, probeTimeout: 20_000 };
    const fleet = await spawn(4, options);
    await registerAll(fleet);
    await fleet[0]!.call('failures', { count: 3 });
    // Tripped. The processes may see it open or, on a slow machine, already half-open: the
    // probes below cover both.
    expect(await redisState()).toMatchObject({ openings: '1', totalFailures: '3' });

    // Everyone asks (with flushes in between) from before the open period ends until well after
    // it: no outcome is reported, and no lease expires (probeTimeout 20 s).
    const at = soon();
    const probes = await Promise.all(
      fleet.map((m) =>
        m.call<{ calls: number; admitted: number; status: Status }>('probe', {
          at,
          until: at + 1_500,
        }),
      ),
    );
    const admitted = probes.map((p) => p.admitted);
    const total = admitted.reduce((a, b) => a + b, 0);
    expect(total, `admissions per process: ${admitted.join(', ')}`).toBeGreaterThanOrEqual(1);
    expect(total, `admissions per process: ${admitted.join(', ')}`).toBeLessThanOrEqual(
      halfOpenProbes,
    );
    for (const p of probes) {
      expect(p.calls).toBeGreaterThan(10);
      expect(p.status.state).toBe('half_open');
    }
    redis ??= backend.client();
    const leases = await redis.zcard(connectionKeys(prefix, ID, null).trials);
    expect(leases).toBeGreaterThanOrEqual(total);
    expect(leases).toBeLessThanOrEqual(halfOpenProbes);
    expect((await redisState()).state).toBe('half_open');

    // The admitted trial succeeds: the circuit closes everywhere, once.
    const prober = fleet[admitted.findIndex((n) => n > 0)]!;
    expect(await prober.call<Status>('success')).toMatchObject({ state: 'closed' });
    await allReach(fleet, 'closed');
    for (const m of fleet) {
      const closed = m.of('circuit_closed');
      expect(closed, m.name).toHaveLength(1);
      expect(closed[0]).toMatchObject({
        origin: m === prober ? 'local' : 'remote',
        from: 'half_open',
        to: 'closed',
      });
    }
    expect((await redisState()).state).toBe('closed');
    expectHealthy();
    await closeAll();
  });

  it('a manual openCircuit in one process is seen by every other', async () => {
    const fleet = await spawn(4, { maxAttempts: 5, expiry: 60_000 });
    await registerAll(fleet);
    const [actor, ...others] = fleet as [Member, ...Member[]];

    expect(await actor.call<Status>('open', { reason: 'maint' })).toMatchObject({ state: 'open' });
    await allReach(fleet, 'open');
    await statuses(fleet);

    expect(actor.of('circuit_opened')).toMatchObject([
      { origin: 'local', cause: 'manual', reason: 'maint', to: 'open' },
    ]);
    for (const m of others) {
      expect(m.of('circuit_opened'), m.name).toMatchObject([
        { origin: 'remote', cause: 'manual', reason: 'maint', from: 'unknown', to: 'open' },
      ]);
    }
    expect(await redisState()).toMatchObject({ state: 'open', openings: '1' });
    expectHealthy();
    await closeAll();
  });

  it('a process joining later adopts the open circuit and never resets it', async () => {
    const options = { maxAttempts: 5, expiry: 60_000 };
    const fleet = await spawn(4, options);
    await registerAll(fleet);
    const at = soon();
    await Promise.all(fleet.map((m) => m.call('failures', { count: 5, batch: 1, at })));
    await allReach(fleet, 'open');
    const before = await redisState();
    expect(before).toMatchObject({ state: 'open', openings: '1' });
    const opened = fleet.map((m) => m.events.length);

    const [late] = await spawn(1, options);
    expect(await late!.call<Status>('register')).toMatchObject({ state: 'unknown' });
    await late!.call('flush');
    const status = await late!.call<Status>('until', { state: 'open', timeoutMs: PROPAGATION_MS });
    expect(status).toMatchObject({ state: 'open', totalFailures: 20, failureCount: 5 });
    expect(late!.of('circuit_opened')).toMatchObject([
      { origin: 'remote', cause: 'sync', from: 'unknown', to: 'open' },
    ]);

    const after = await redisState();
    for (const field of [
      'state',
      'openedAt',
      'openUntil',
      'openings',
      'generation',
      'changedAt',
      'failureCount',
      'totalFailures',
      'registeredAt',
    ]) {
      expect(after[field], field).toBe(before[field]);
    }
    // Nobody else heard of a change.
    await statuses(fleet);
    expect(fleet.map((m) => m.events.length)).toEqual(opened);
    for (const s of await statuses(fleet, 'status')) expect(s.state).toBe('open');
    expectHealthy();
    await closeAll();
  });

  it('every process exits by itself after close(), even holding half-open leases', async () => {
    const options = { maxAttempts: 1, expiry: 100, halfOpenProbes: 4, probeTimeout: 30_000 };
    const fleet = await spawn(4, options);
    await registerAll(fleet);
    await fleet[0]!.call('failures', { count: 1 });
    expect(await redisState()).toMatchObject({ openings: '1' });
    // Everyone enters half-open and leases trial slots (timers pending to give them back).
    await allReach(fleet, 'half_open');
    await Promise.all(fleet.map((m) => m.call('probe', { until: Date.now() + 200 })));
    const started = Date.now();
    await closeAll(fleet);
    expect(Date.now() - started).toBeLessThan(STEP_MS);
    expect(fleet.every((m) => !m.alive)).toBe(true);
  });

  // Only a cluster has masters to spread over and to lose one of.
  if (backend !== redisCluster) return;
  it('connections on every master: exact totals; one master killed mid-run leaves the others shared', async () => {
    const cluster = backend.cluster()!;
    const fleet = await spawn(4, { maxAttempts: 1000, expiry: 60_000 });
    // Two connections per master.
    const ids: string[] = [];
    for (const node of cluster.nodes) {
      let found = 0;
      for (let n = 0; found < 2; n++) {
        const id = `c${n}`;
        if (ids.includes(id)) continue;
        if (cluster.masterFor(connectionKeys(prefix, id, null).state) !== node) continue;
        ids.push(id);
        found++;
      }
    }
    await Promise.all(fleet.map((m) => m.call('register', { identifiers: ids })));
    await statuses(fleet);
    const at = soon();
    const spread = await Promise.all(
      fleet.map((m) =>
        m.call<{ errors: number }>('spread', { identifiers: ids, count: 10, batch: 3, at }),
      ),
    );
    for (const s of spread) expect(s.errors).toBe(0);
    redis ??= backend.client();
    const totals = async (of: string[]): Promise<(string | null)[]> =>
      Promise.all(
        of.map((id) => redis!.hget(connectionKeys(prefix, id, null).state, 'totalFailures')),
      );
    expect(await totals(ids)).toEqual(ids.map(() => '40'));

    // One master dies while every process keeps calling every connection.
    const victim = cluster.nodes[1]!;
    const onVictim = (id: string): boolean =>
      cluster.masterFor(connectionKeys(prefix, id, null).state) === victim;
    const survivors = ids.filter((id) => !onVictim(id));
    const until = Date.now() + 3_000;
    const calling = Promise.all(
      fleet.map((m) =>
        m.call<{ ok: number; refused: number; other: string[] }>(
          'calls',
          { identifiers: ids, until },
          10_000,
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.kill(victim);
    for (const ends of await calling) {
      expect(ends.other, 'callers never see a Redis error').toEqual([]);
      expect(ends.ok).toBeGreaterThan(10);
    }
    // The surviving masters' connections are still shared exactly.
    const later = await Promise.all(
      fleet.map((m) =>
        m.call<{ errors: number }>('spread', { identifiers: ids, count: 5, batch: 2 }, 10_000),
      ),
    );
    for (const s of later) expect(s.errors).toBe(0);
    expect(await totals(survivors)).toEqual(survivors.map(() => '60'));
    // The store as a whole never degraded: only the dead master's connections went local.
    expectHealthy();
    await closeAll();
  }, 60_000);
}
