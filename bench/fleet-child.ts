/**
 * Child process of scenario 6 (fleet mode): one Brama per process, as an application runs it,
 * driven by bench/scenarios/fleet.ts over IPC. Roles:
 *
 * - `available`: `isAvailable` in a loop, on a memory store or on a Redis store (one store kind
 *   per process, so the call sites inside brama see one store class, as in an application);
 * - `reports`: outcome reports through the Redis store, 1,000 per tick and then
 *   `await store.flush()`, beside the same Lua script called straight through ioredis and the
 *   simplest Redis write, with the CPU time of this process and of Redis per report;
 * - `observer`: the other process of the propagation measurement: records when it sees the
 *   circuit that the parent trips open (and closed again), on its own clock.
 *
 * Usage (through `child_process.fork`): node --expose-gc fleet-child.js '<FleetChildConfig JSON>'
 * Messages in: { id, cmd, ...args }. Messages out: { ready: true } once set up; { id, ok, result
 * | error } per command; { event } (observer). After `close` it disconnects and exits by itself.
 */
import { readFileSync } from 'node:fs';
import { Brama } from 'brama';
import { createRedisStore, type RedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import {
  clockMs,
  TRIP_ID,
  TRIP_OPTIONS,
  type FleetChildConfig,
  type FleetMessage,
  type FleetRequest,
  type FleetRole,
  type ReportBatch,
} from './fleet-protocol.js';
import { timeBatch, warmUp, type Subject } from './harness.js';
import { NEVER_TRIPS, ONE_HOUR } from './peers.js';

/** The ioredis command brama defines for its report script (src/stores/redis/commands.ts). */
const REPORT_COMMAND = 'bramaV2Report';

type Handlers = Record<string, (args: FleetRequest) => unknown>;

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function send(message: FleetMessage): void {
  if (process.connected) process.send?.(message);
}

function subjectOf(subjects: ReadonlyMap<string, Subject>, name: unknown): Subject {
  const subject = subjects.get(String(name));
  if (subject === undefined) throw new Error(`unknown subject ${String(name)}`);
  return subject;
}

async function available(config: FleetChildConfig): Promise<Handlers> {
  const store: RedisStore | undefined =
    config.store === 'redis'
      ? createRedisStore({ url: config.url, prefix: config.prefix })
      : undefined;
  const brama = new Brama(store === undefined ? {} : { store });
  await store?.ready();
  if (store?.degraded === true) throw new Error('the Redis store is degraded after ready()');
  brama.register('closed');
  brama.success('closed');
  brama.register('open');
  brama.openCircuit('open', { expiry: ONE_HOUR });
  await store?.flush();
  for (const state of ['closed', 'open']) {
    const seen = brama.status(state).state;
    if (seen !== state) throw new Error(`connection ${state} is ${seen}`);
  }
  // One loop per subject (not one closure factory), so each loop's call sites stay monomorphic.
  const subjects = new Map<string, Subject>([
    [
      'closed',
      {
        name: 'closed',
        batch: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) if (brama.isAvailable('closed')) s++;
          return s;
        },
      },
    ],
    [
      'open',
      {
        name: 'open',
        batch: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) if (!brama.isAvailable('open')) s++;
          return s;
        },
      },
    ],
  ]);
  return {
    calibrate: ({ subject, warmupMs, batchMs }) =>
      warmUp(subjectOf(subjects, subject), {
        rounds: 0,
        warmupMs: Number(warmupMs),
        batchMs: Number(batchMs),
      }),
    batch: async ({ subject, n }) =>
      (await timeBatch(subjectOf(subjects, subject), Number(n))) / Number(n),
    close: () => brama.close(),
  };
}

/**
 * CPU seconds of the calling thread (here: the main thread, which runs the event loop), or
 * `NaN` where /proc/thread-self does not exist. process.cpuUsage() counts every thread, V8's
 * background GC and compiler threads included.
 */
function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Linux USER_HZ: the unit of utime and stime in /proc (100 on every mainstream build). */
const TICKS_PER_SECOND = 100;

/** CPU seconds of the Redis server's main thread (all of its clients), from INFO cpu. */
async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info);
    return m === null ? undefined : Number(m[1]);
  };
  const user = field('used_cpu_user_main_thread') ?? field('used_cpu_user') ?? NaN;
  const sys = field('used_cpu_sys_main_thread') ?? field('used_cpu_sys') ?? NaN;
  return user + sys;
}

async function reports(config: FleetChildConfig): Promise<Handlers> {
  const perTick = config.perTick ?? 1_000;
  // The store's commands run on this client, configured as createRedisStore configures the
  // clients it owns (auto-pipelining); brama defines its scripts on it, so the raw subject can
  // call the very same script without brama around it.
  const client = new Redis(config.url, { enableAutoPipelining: true });
  const monitor = new Redis(config.url);
  const store = createRedisStore({ client, prefix: config.prefix });
  const brama = new Brama({ store });
  await store.ready();
  if (store.degraded) throw new Error('the Redis store is degraded after ready()');
  brama.register('ok');
  brama.register('flaky', { maxAttempts: NEVER_TRIPS });
  brama.register('raw', { maxAttempts: NEVER_TRIPS });
  brama.success('ok');
  brama.failure('flaky');
  brama.success('raw');
  await store.flush();

  const reportLoop =
    (id: string, report: (id: string) => void, count: () => number) =>
    async (n: number): Promise<number> => {
      const before = count();
      for (let done = 0; done < n;) {
        const k = Math.min(perTick, n - done);
        for (let i = 0; i < k; i++) report(id);
        done += k;
        await store.flush();
      }
      return count() - before;
    };

  const subjects = new Map<string, Subject>([
    [
      'brama.success',
      {
        name: 'brama.success',
        batch: reportLoop(
          'ok',
          (id) => brama.success(id),
          () => brama.status('ok').totalSuccesses,
        ),
      },
    ],
    [
      'brama.failure',
      {
        name: 'brama.failure',
        batch: reportLoop(
          'flaky',
          (id) => brama.failure(id),
          () => brama.status('flaky').totalFailures,
        ),
      },
    ],
  ]);

  // The report script, called as commands.ts calls it: KEYS state, trials and seen; ARGV ttl,
  // the eight effective settings, outcome, reason, lease token, fence, mode, announce interval,
  // then channel, source, tag, sequence number. Only if this brama version still defines it
  // under that name.
  const script: unknown = Reflect.get(client, REPORT_COMMAND);
  if (typeof script === 'function') {
    const s = brama.status('raw');
    const tag = `${config.prefix}:{|raw}`;
    const args = [
      `${tag}:state`,
      `${tag}:trials`,
      `${tag}:seen`,
      String(86_400_000),
      ...[
        s.maxAttempts,
        s.expiry,
        s.expiryStrategy,
        s.initialExpiry,
        s.maxExpiry,
        s.backoffFactor,
        s.halfOpenProbes,
        s.probeTimeout,
      ].map(String),
      'success',
      '',
      '',
      '',
      '',
      '250',
      `${config.prefix}:changes`,
      'bench-raw',
      '{|raw}',
      '',
    ];
    const call = script as (...a: string[]) => Promise<unknown>;
    subjects.set('ioredis.script', {
      name: 'ioredis.script',
      batch: async (n) => {
        let ok = 0;
        for (let done = 0; done < n;) {
          const k = Math.min(perTick, n - done);
          const replies: Promise<unknown>[] = [];
          for (let i = 0; i < k; i++) replies.push(call.apply(client, args));
          for (const r of await Promise.all(replies)) if (Array.isArray(r) && r[1] === '1') ok++;
          done += k;
        }
        return ok;
      },
    });
  }

  const counter = `${config.prefix}:bench-hincrby`;
  subjects.set('ioredis.hincrby', {
    name: 'ioredis.hincrby',
    batch: async (n) => {
      let ok = 0;
      for (let done = 0; done < n;) {
        const k = Math.min(perTick, n - done);
        const replies: Promise<number>[] = [];
        for (let i = 0; i < k; i++) replies.push(client.hincrby(counter, 'n', 1));
        for (const r of await Promise.all(replies)) if (r > 0) ok++;
        done += k;
      }
      return ok;
    },
  });

  let background: {
    state: { stop: boolean; reports: number; start: number };
    loop: Promise<void>;
  } | null = null;

  const run = async (subject: Subject, n: number): Promise<ReportBatch> => {
    gc();
    const redisBefore = await redisCpuSeconds(monitor);
    const cpuBefore = process.cpuUsage();
    const mainBefore = threadCpuSeconds();
    const start = process.hrtime.bigint();
    const done = await subject.batch(n);
    const ns = Number(process.hrtime.bigint() - start);
    const main = threadCpuSeconds() - mainBefore;
    const cpu = process.cpuUsage(cpuBefore);
    const redisAfter = await redisCpuSeconds(monitor);
    if (done !== n) throw new Error(`${subject.name}: ${done} of ${n} reports were applied`);
    if (store.degraded) throw new Error(`${subject.name}: the Redis store became degraded`);
    return {
      ns: ns / n,
      nodeCpuUs: (cpu.user + cpu.system) / n,
      mainCpuUs: (main * 1e6) / n,
      redisCpuUs: ((redisAfter - redisBefore) * 1e6) / n,
    };
  };

  return {
    subjects: () => [...subjects.keys()],
    warm: async ({ subject, n, warmupMs }) => {
      const s = subjectOf(subjects, subject);
      const until = Date.now() + Number(warmupMs);
      do await run(s, Number(n));
      while (Date.now() < until);
      return null;
    },
    batch: ({ subject, n }) => run(subjectOf(subjects, subject), Number(n)),
    /** Starts reporting in batches of `n` until `stop`: background load for the propagation. */
    background: ({ subject, n }) => {
      const s = subjectOf(subjects, subject);
      if (background !== null) throw new Error('already reporting in the background');
      const state = { stop: false, reports: 0, start: performance.now() };
      const loop = (async () => {
        while (!state.stop) state.reports += await s.batch(Number(n));
      })();
      background = { state, loop };
      return null;
    },
    /** Stops the background load; resolves its rate (reports per second). */
    stop: async () => {
      if (background === null) throw new Error('not reporting in the background');
      const { state, loop } = background;
      background = null;
      state.stop = true;
      await loop;
      return (state.reports * 1e3) / (performance.now() - state.start);
    },
    close: async () => {
      await brama.close();
      client.disconnect();
      monitor.disconnect();
    },
  };
}

async function observer(config: FleetChildConfig): Promise<Handlers> {
  const store = createRedisStore({ url: config.url, prefix: config.prefix });
  const brama = new Brama({ store });
  await store.ready();
  if (store.degraded) throw new Error('the Redis store is degraded after ready()');
  brama.register(TRIP_ID, TRIP_OPTIONS);
  await store.flush();
  brama.subscribe(
    (event) => {
      const at = clockMs();
      if (event.type !== 'circuit_opened' && event.type !== 'circuit_closed') return;
      if (event.identifier !== TRIP_ID) return;
      send({
        event: {
          type: event.type,
          origin: event.data.origin,
          at,
          available: brama.isAvailable(TRIP_ID),
        },
      });
    },
    { events: ['circuit_opened', 'circuit_closed'] },
  );
  return {
    ping: () => clockMs(),
    state: async () => {
      await store.flush();
      return brama.status(TRIP_ID).state;
    },
    close: () => brama.close(),
  };
}

const ROLES: Record<FleetRole, (config: FleetChildConfig) => Promise<Handlers>> = {
  available,
  reports,
  observer,
};

const config = JSON.parse(process.argv[2] ?? '{}') as FleetChildConfig;
const setup = ROLES[config.role];
if (setup === undefined) throw new Error(`unknown role ${String(config.role)}`);
const handlers = await setup(config);

process.on('message', (message: FleetRequest) => {
  const handler = handlers[message.cmd];
  void (async () => {
    try {
      if (handler === undefined) throw new Error(`unknown command ${message.cmd}`);
      const result: unknown = await handler(message);
      send({ id: message.id, ok: true, result: result ?? null });
      if (message.cmd === 'close') process.disconnect();
    } catch (error) {
      send({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  })();
});
send({ ready: true });
