/**
 * Scenario 6: fleet mode against a local Redis (`brama/redis`).
 *
 * - `isAvailable` with the Redis store against the memory store: two child processes, one per
 *   store, timed in interleaved rounds (paired ratios, as in scenarios 1–3);
 * - outcome reports per second per process: a child process reporting 1,000 outcomes per tick
 *   and awaiting `store.flush()`, beside the same script called straight through ioredis;
 * - propagation: this process trips a circuit, a child process (the observer, with its own
 *   store and connections) records when it sees it open; then this process closes it again.
 *
 * Every measurement uses its own key prefix under one run prefix; the keys are deleted at the
 * end (SCAN + UNLINK). When Redis cannot be reached the scenario is skipped with the reason.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Brama, type BramaEvent } from 'brama';
import { createRedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import {
  clockMs,
  TRIP_ID,
  TRIP_OPTIONS,
  type FleetChildConfig,
  type FleetMessage,
  type ObservedEvent,
  type ReportBatch,
} from '../fleet-protocol.js';
import { pairedRatios } from '../stats.js';
import type { Row, Table } from '../table.js';

export interface FleetPlan {
  /** `isAvailable`: interleaved rounds, batch duration and warm-up per subject. */
  readonly rounds: number;
  readonly batchMs: number;
  readonly warmupMs: number;
  /** Reports: rounds, reports per timed batch, warm-up per subject. */
  readonly reportRounds: number;
  readonly reportsPerBatch: number;
  readonly reportWarmupMs: number;
  /** Reports issued per tick before awaiting their replies. */
  readonly perTick: number;
  /** Trips of the propagation measurement. */
  readonly trips: number;
}

export interface ReportRow {
  readonly key: string;
  readonly label: string;
  /** Reports (operations) per second, one value per round. */
  readonly rate: readonly number[];
  /** Per-round ratio to the raw script's rate, `null` for that row or when it is missing. */
  readonly ratio: readonly number[] | null;
  readonly nodeCpuUs: readonly number[];
  readonly mainCpuUs: readonly number[];
  readonly redisCpuUs: readonly number[];
  readonly ops: number;
}

/** The times of one series of trips (ms). */
export interface TripTimes {
  /** failure() in this process → circuit_opened (origin 'remote') in the observer. */
  readonly remoteOpenMs: number[];
  /** failure() → circuit_opened (origin 'local') in this process. */
  readonly localOpenMs: number[];
  /** closeCircuit() in this process → circuit_closed (origin 'remote') in the observer. */
  readonly remoteCloseMs: number[];
  /** Trips the observer did not see within {@link SEE_TIMEOUT_MS}. */
  lost: number;
  /** Observed opens that were not remote, or where `isAvailable` was still true. */
  anomalies: number;
}

/** The trips with nothing else running (the target), then the same under load. */
export interface Propagation extends TripTimes {
  readonly trips: number;
  /** The same trips while another process reports outcomes as fast as it can. */
  readonly loaded: TripTimes & { readonly reportsPerSecond: number };
  /** Clock check: observer clock − this clock, from the fastest of the IPC round trips. */
  readonly clockOffsetMs: number;
  readonly ipcRttMs: number;
  /** Idle time between two steps (trip, reset), ms. */
  readonly gapMs: number;
}

export interface FleetResults {
  /** Why the scenario did not run, `null` when it did. */
  readonly skipped: string | null;
  /** What was measured against, e.g. `Redis 7.0.15 at 127.0.0.1:6379`. */
  readonly redis: string;
  readonly available?: Table;
  readonly reports?: readonly ReportRow[];
  /** Reports issued per tick before awaiting them. */
  readonly perTick?: number;
  readonly propagation?: Propagation;
}

const CHILD = fileURLToPath(new URL('../fleet-child.js', import.meta.url));
/** How long a child may take to answer one command (a batch of reports included). */
const COMMAND_TIMEOUT_MS = 120_000;
/** How long the observer may take to see a trip before it counts as lost. */
export const SEE_TIMEOUT_MS = 5_000;
/** Idle time between two trips (and between a trip and its reset). */
const TRIP_GAP_MS = 5;

export const AVAILABLE_LABELS = [
  { key: 'memory.closed', label: "memory store: `isAvailable('id')`, closed" },
  { key: 'redis.closed', label: "Redis store: `isAvailable('id')`, closed" },
  { key: 'memory.open', label: "memory store: `isAvailable('id')`, open (refused)" },
  { key: 'redis.open', label: "Redis store: `isAvailable('id')`, open (refused)" },
] as const;

export const REPORT_LABELS = [
  { key: 'brama.success', label: "brama `success('id')`, Redis store" },
  { key: 'brama.failure', label: "brama `failure('id')` (stays closed), Redis store" },
  {
    key: 'ioredis.script',
    label:
      "brama's report script called straight through ioredis (`EVALSHA`, same keys and arguments)",
  },
  { key: 'ioredis.hincrby', label: 'ioredis `HINCRBY` (the simplest write: one command floor)' },
] as const;

function describeRedis(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port === '' ? '6379' : u.port}`;
  } catch {
    return 'the configured URL';
  }
}

/** Connects once; resolves the server version, or rejects with why Redis cannot be used. */
export async function probe(url: string): Promise<string> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ...) says more than the rejection ("Connection is closed").
  let cause: unknown = null;
  client.on('error', (error: unknown) => (cause ??= error));
  try {
    await client.connect();
    const info = await client.info('server');
    return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown version';
  } catch (error) {
    const why = cause ?? error;
    throw new Error((why instanceof Error ? why.message : String(why)).replace(/\.$/, ''), {
      cause: error,
    });
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (the run's prefix; the children's are below it). */
export async function cleanUp(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** A child process of bench/fleet-child.ts and its IPC. */
class Child {
  private readonly process: ChildProcess;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly events: ObservedEvent[] = [];
  private wake: (() => void) | null = null;
  private nextId = 0;
  private exited: Error | null = null;
  readonly ready: Promise<void>;

  constructor(readonly config: FleetChildConfig) {
    this.process = fork(CHILD, [JSON.stringify(config)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.process.on('message', (message: FleetMessage) => {
        if ('ready' in message) resolve();
        else if ('event' in message) {
          this.events.push(message.event);
          this.wake?.();
        } else {
          const pending = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.ok) pending?.resolve(message.result);
          else pending?.reject(new Error(`${config.role} child: ${message.error}`));
        }
      });
      this.process.on('exit', (code, signal) => {
        this.exited = new Error(`${config.role} child exited (${code ?? signal})`);
        reject(this.exited);
        for (const p of this.waiting.values()) p.reject(this.exited);
        this.waiting.clear();
        this.wake?.();
      });
    });
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited !== null) return Promise.reject(this.exited);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.config.role} child: no answer to ${cmd} in time`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, cmd, ...args });
    });
  }

  /** The next observed event of `type` (events of other types before it are dropped). */
  async next(type: ObservedEvent['type'], timeoutMs: number): Promise<ObservedEvent | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.type === type);
      if (i >= 0) {
        const [event] = this.events.splice(0, i + 1).slice(-1);
        return event ?? null;
      }
      const left = until - performance.now();
      if (left <= 0 || this.exited !== null) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Asks the child to close its Brama and exit by itself; kills it if it does not. */
  async close(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    try {
      await Promise.race([this.call('close'), sleep(10_000)]);
    } catch {
      // exited or failed: killed below if still alive
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

async function withChildren<T>(
  configs: readonly FleetChildConfig[],
  body: (children: Child[]) => Promise<T>,
): Promise<T> {
  const children = configs.map((c) => new Child(c));
  try {
    await Promise.all(children.map((c) => c.ready));
    return await body(children);
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

function progress(text: string): void {
  process.stderr.write(text);
}

async function measureAvailable(url: string, prefix: string, plan: FleetPlan): Promise<Table> {
  const configs: FleetChildConfig[] = [
    { role: 'available', url, prefix: `${prefix}:available`, store: 'memory' },
    { role: 'available', url, prefix: `${prefix}:available`, store: 'redis' },
  ];
  return withChildren(configs, async ([memory, redis]) => {
    const pairs = AVAILABLE_LABELS.map(({ key }) => {
      const [store, subject] = key.split('.') as [string, string];
      return { key, child: (store === 'memory' ? memory : redis) as Child, subject };
    });
    progress('  6 fleet isAvailable: warm-up');
    const ops: number[] = [];
    for (const p of pairs) {
      ops.push(
        await p.child.call<number>('calibrate', {
          subject: p.subject,
          warmupMs: plan.warmupMs,
          batchMs: plan.batchMs,
        }),
      );
      progress('.');
    }
    progress(' rounds ');
    const samples: number[][] = pairs.map(() => []);
    for (let round = 0; round < plan.rounds; round++) {
      for (let k = 0; k < pairs.length; k++) {
        const i = (round + k) % pairs.length;
        const p = pairs[i]!;
        samples[i]!.push(await p.child.call<number>('batch', { subject: p.subject, n: ops[i] }));
      }
      progress(`${round + 1} `);
    }
    progress('\n');
    const byKey = new Map<string, number[]>(pairs.map((p, i) => [p.key, samples[i]!]));
    const rows = AVAILABLE_LABELS.map(({ key, label }, i): Row => {
      const values = byKey.get(key)!;
      const base = key.startsWith('redis.')
        ? byKey.get(key.replace('redis.', 'memory.'))
        : undefined;
      return {
        key,
        label,
        samples: values,
        ratio: base === undefined ? null : pairedRatios(values, base),
        ops: ops[i]!,
      };
    });
    return {
      title: '`isAvailable`: Redis store against memory store',
      unit: 'ns/op',
      ratioLabel: 'x memory store',
      rows,
      notes: [
        'Each store in its own child process (`node --expose-gc`), as an application runs one store: a process that used both would make the store calls inside brama polymorphic (see the analysis below the generated part). The two processes take turns (one timed batch at a time, rotating order), so the ratios are paired per round like the other tables; the memory rows are the baseline of the Redis row below them.',
        'Both answer from the local view, with no I/O: `isAvailable` never waits for Redis. The Redis store is subscribed and idle while measured.',
      ],
    };
  });
}

async function measureReports(url: string, prefix: string, plan: FleetPlan): Promise<ReportRow[]> {
  const config: FleetChildConfig = {
    role: 'reports',
    url,
    prefix: `${prefix}:reports`,
    perTick: plan.perTick,
  };
  return withChildren([config], async ([child]) => {
    const c = child!;
    const available = await c.call<string[]>('subjects');
    const keys = REPORT_LABELS.map((l) => l.key).filter((k) => available.includes(k));
    const n = plan.reportsPerBatch;
    progress('  6 fleet reports: warm-up');
    for (const subject of keys) {
      await c.call('warm', { subject, n, warmupMs: plan.reportWarmupMs });
      progress('.');
    }
    progress(' rounds ');
    const batches: ReportBatch[][] = keys.map(() => []);
    for (let round = 0; round < plan.reportRounds; round++) {
      for (let k = 0; k < keys.length; k++) {
        const i = (round + k) % keys.length;
        batches[i]!.push(await c.call<ReportBatch>('batch', { subject: keys[i], n }));
      }
      progress(`${round + 1} `);
    }
    progress('\n');
    const rate = (b: readonly ReportBatch[]): number[] => b.map((x) => 1e9 / x.ns);
    const raw = keys.indexOf('ioredis.script');
    return REPORT_LABELS.filter((l) => keys.includes(l.key)).map(({ key, label }): ReportRow => {
      const i = keys.indexOf(key);
      const b = batches[i]!;
      return {
        key,
        label,
        rate: rate(b),
        ratio: raw < 0 || i === raw ? null : pairedRatios(rate(b), rate(batches[raw]!)),
        nodeCpuUs: b.map((x) => x.nodeCpuUs),
        mainCpuUs: b.map((x) => x.mainCpuUs),
        redisCpuUs: b.map((x) => x.redisCpuUs),
        ops: n,
      };
    });
  });
}

async function measurePropagation(
  url: string,
  prefix: string,
  plan: FleetPlan,
): Promise<Propagation> {
  const shared = `${prefix}:propagation`;
  const configs: FleetChildConfig[] = [
    { role: 'observer', url, prefix: shared },
    { role: 'reports', url, prefix: `${prefix}:load`, perTick: plan.perTick },
  ];
  return withChildren(configs, async ([observerChild, loadChild]) => {
    const observer = observerChild!;
    const load = loadChild!;
    const store = createRedisStore({ url, prefix: shared });
    const brama = new Brama({ store });
    const local: { type: string; at: number }[] = [];
    brama.subscribe(
      (event: BramaEvent) => {
        const at = clockMs();
        if (
          (event.type === 'circuit_opened' || event.type === 'circuit_closed') &&
          event.data.origin === 'local'
        )
          local.push({ type: event.type, at });
      },
      { identifier: TRIP_ID },
    );
    try {
      await store.ready();
      if (store.degraded) throw new Error('the Redis store is degraded after ready()');

      // Clock check: both clocks are performance.timeOrigin + performance.now() on one host;
      // the fastest IPC round trip bounds how far apart they can be.
      let best = { rtt: Infinity, offset: 0 };
      for (let i = 0; i < 50; i++) {
        const t1 = clockMs();
        const remote = await observer.call<number>('ping');
        const t2 = clockMs();
        if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: remote - (t1 + t2) / 2 };
      }

      brama.register(TRIP_ID, TRIP_OPTIONS);
      brama.success(TRIP_ID); // unknown → closed, fleet-wide
      await store.flush();
      await observer.next('circuit_closed', SEE_TIMEOUT_MS);

      const localAt = async (type: string, t0: number): Promise<number> => {
        for (let i = 0; i < 1_000; i++) {
          const found = local.find((e) => e.type === type && e.at >= t0);
          if (found !== undefined) return found.at;
          await store.flush();
          await sleep(0);
        }
        throw new Error(`this process never saw its own ${type}`);
      };

      const trips = async (label: string): Promise<TripTimes> => {
        const times: TripTimes = {
          remoteOpenMs: [],
          localOpenMs: [],
          remoteCloseMs: [],
          lost: 0,
          anomalies: 0,
        };
        progress(`  6 fleet propagation${label}: ${plan.trips} trips `);
        for (let trip = 0; trip < plan.trips; trip++) {
          await sleep(TRIP_GAP_MS);
          local.length = 0;
          const t0 = clockMs();
          brama.failure(TRIP_ID);
          const opened = await observer.next('circuit_opened', SEE_TIMEOUT_MS);
          times.localOpenMs.push((await localAt('circuit_opened', t0)) - t0);
          if (opened === null) times.lost++;
          else {
            times.remoteOpenMs.push(opened.at - t0);
            if (opened.origin !== 'remote' || opened.available) times.anomalies++;
          }
          await sleep(TRIP_GAP_MS);
          const t1 = clockMs();
          brama.closeCircuit(TRIP_ID);
          const closed = await observer.next('circuit_closed', SEE_TIMEOUT_MS);
          await localAt('circuit_closed', t1);
          if (closed !== null) times.remoteCloseMs.push(closed.at - t1);
          else {
            // Missed: make sure the observer is closed again before the next trip.
            const state = await observer.call<string>('state');
            if (state !== 'closed') throw new Error(`observer stuck in ${state}`);
          }
          if ((trip + 1) % Math.max(1, Math.round(plan.trips / 10)) === 0) progress('.');
        }
        progress('\n');
        return times;
      };

      const idle = await trips('');
      // The same trips while a third process reports outcomes as fast as it can (scenario 6's
      // reports loop, on its own prefix): Redis and the cores are busy, as in a loaded fleet.
      await load.call('background', { subject: 'brama.success', n: plan.perTick });
      let loaded: TripTimes;
      let loadRate: number;
      try {
        loaded = await trips(' under load');
      } finally {
        loadRate = await load.call<number>('stop');
      }
      return {
        trips: plan.trips,
        ...idle,
        loaded: { ...loaded, reportsPerSecond: loadRate },
        clockOffsetMs: best.offset,
        ipcRttMs: best.rtt,
        gapMs: TRIP_GAP_MS,
      };
    } finally {
      await brama.close();
    }
  });
}

export async function fleet(plan: FleetPlan, url: string): Promise<FleetResults> {
  const where = describeRedis(url);
  let version: string;
  try {
    version = await probe(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    progress(`  6 fleet: skipped, Redis not reachable at ${where} (${reason})\n`);
    return {
      skipped: `Redis not reachable at ${where} (${reason}); set REDIS_URL to measure against another server`,
      redis: where,
    };
  }
  const redis = `Redis ${version} at ${where}`;
  const prefix = `brama-bench-${randomUUID()}`;
  try {
    const available = await measureAvailable(url, prefix, plan);
    const reports = await measureReports(url, prefix, plan);
    const propagation = await measurePropagation(url, prefix, plan);
    return { skipped: null, redis, available, reports, perTick: plan.perTick, propagation };
  } finally {
    const deleted = await cleanUp(url, prefix).catch(() => -1);
    progress(
      deleted < 0
        ? `  6 fleet: could not delete the keys under ${prefix}:*\n`
        : `  6 fleet: deleted ${deleted} keys under ${prefix}:*\n`,
    );
  }
}
