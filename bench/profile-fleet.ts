/**
 * The fleet loops of bench/profile.ts (`fleet-*`): one process of scenario 6's workloads, against
 * the Redis the parent started (bench/redis-server.ts), plus the Redis side of each (INFO
 * commandstats and CPU over the loop).
 */
import { Brama } from 'brama';
import { createRedisStore, type RedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import { connectionIds, counterKey, FAILURE_PASS_EVERY, stateKey } from './fleet-protocol.js';
import { slow } from './functions.js';
import { NEVER_TRIPS } from './peers.js';
import { redisCpuSeconds } from './redis-server.js';

export type Batch = () => Promise<number> | number;

/** Operations per tick in the fleet loops, as in scenario 6. */
const PER_TICK = 1_000;

/** Run in the child after its loop: closes what the fleet loops opened. */
export const closers: (() => Promise<unknown>)[] = [];

let prefixes = 0;

/**
 * A Brama on a Redis store with its own key prefix, closed after the loop; on `client` when
 * given (the store defines its scripts on it).
 */
async function fleetBrama(
  url: string,
  client?: Redis,
): Promise<{ brama: Brama; store: RedisStore }> {
  const prefix = `brama-bench-profile-${process.pid}-${prefixes++}`;
  const store = createRedisStore(client === undefined ? { url, prefix } : { client, prefix });
  const brama = new Brama({ store });
  await store.ready();
  if (store.degraded) throw new Error(`Redis at ${url} is not usable`);
  closers.push(() => brama.close());
  return { brama, store };
}

/** `perTick` reports per tick over `n` connections in turn (scenario 6's member loop). */
async function reportLoop(url: string, n: number): Promise<Batch> {
  const { brama, store } = await fleetBrama(url);
  const ids = connectionIds(n);
  for (const id of ids) brama.register(id, { maxAttempts: NEVER_TRIPS });
  await store.flush();
  let next = 0;
  let pass = 0;
  return async () => {
    for (let k = 0; k < PER_TICK; k++) {
      const id = ids[next]!;
      if (pass % FAILURE_PASS_EVERY === 0) brama.failure(id);
      else brama.success(id);
      if (++next === n) {
        next = 0;
        pass++;
      }
    }
    await store.flush();
    return PER_TICK;
  };
}

/** A client configured as the store's own (auto-pipelining), closed after the loop. */
function pipelinedClient(url: string): Redis {
  const client = new Redis(url, { enableAutoPipelining: true });
  closers.push(() => Promise.resolve(client.disconnect()));
  return client;
}

export const FLEET_LOOPS: Record<string, (url: string) => Promise<Batch>> = {
  'fleet-available': async (url) => {
    const { brama, store } = await fleetBrama(url);
    brama.register('a');
    brama.success('a');
    await store.flush();
    return () => {
      let s = 0;
      for (let i = 0; i < 1_000_000; i++) if (brama.isAvailable('a')) s++;
      return s;
    };
  },
  /** Scenario 6's capacity loop with few connections: 100 reports per connection and tick. */
  'fleet-report': (url) => reportLoop(url, 10),
  /** With many connections: one report per connection and tick, nothing to coalesce. */
  'fleet-spread': (url) => reportLoop(url, 1_000),
  /** Scenario 6's 64 calls in flight with the Redis store. */
  'fleet-inflight': async (url) => {
    const { brama, store } = await fleetBrama(url);
    brama.register('upstream');
    await store.flush();
    return async () => {
      let ok = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 100; i++) {
          const v = await brama.run('upstream', slow);
          ok += v;
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      await store.flush();
      return ok;
    };
  },
  /**
   * brama's report script called straight through ioredis (one success per connection and
   * tick over 1,000 connections, the lean path): what the client costs without brama around it.
   */
  'fleet-script': async (url) => {
    const client = pipelinedClient(url);
    const { brama, store } = await fleetBrama(url, client);
    const ids = connectionIds(1_000);
    for (const id of ids) brama.register(id, { maxAttempts: NEVER_TRIPS });
    await store.flush();
    // The store defined its scripts on `client` (ioredis defineCommand) under this name.
    const script: unknown = Reflect.get(client, 'bramaV2Report');
    if (typeof script !== 'function') throw new Error('no bramaV2Report command on the client');
    const s = brama.status('c0');
    // The settings as one argument (src/stores/redis/scripts/common.ts SETTINGS_DOC).
    const settings = [s.maxAttempts, s.tripPolicy, s.expiry, s.expiryStrategy, s.initialExpiry]
      .concat([s.maxExpiry, s.backoffFactor, s.halfOpenProbes, s.probeTimeout])
      .concat([s.failureRateThreshold, s.slowCallMs === null ? 0 : 1, s.slowCallRateThreshold])
      .map(String)
      .concat('calls' in s.window ? ['calls', String(s.window.calls)] : ['ms', String(s.window.ms)])
      .concat([s.minimumCalls, s.successThreshold, s.rampUpMs].map(String))
      .join(' ');
    // KEYS state, trials, window; ARGV (scripts/report.ts) ttl, settings, successes 1, failures,
    // head, run, tail 0, reason, token, fence, mode '', announce interval, outcome codes 's',
    // retry-after ''; channel, source, tag, sequence ''.
    const argv = ids.map((id) => {
      const state = stateKey(store.prefix, id);
      const keys = [
        state,
        state.replace(/:state$/, ':trials'),
        state.replace(/:state$/, ':window'),
      ];
      return [
        ...keys,
        '86400000',
        settings,
        '1',
        '0',
        '0',
        '0',
        '0',
        '',
        '',
        '',
        '',
        '250',
        's',
        '',
      ].concat([`${store.prefix}:changes`, 'bench-raw', `{|${id}}`, '']);
    });
    const call = script as (...a: string[]) => Promise<unknown>;
    return async () => {
      const replies: Promise<unknown>[] = [];
      for (const args of argv) replies.push(call.apply(client, args));
      await Promise.all(replies);
      return argv.length;
    };
  },
  /** The baseline of Redis CPU per report: a trivial one-`HINCRBY` script per report. */
  'fleet-hincrby-script': (url) => {
    const client = pipelinedClient(url);
    client.defineCommand('benchHincrby', {
      numberOfKeys: 1,
      lua: "return redis.call('HINCRBY', KEYS[1], 'n', 1)",
    });
    const script = Reflect.get(client, 'benchHincrby') as (key: string) => Promise<number>;
    const keys = connectionIds(1_000).map((id) => counterKey('brama-bench-profile', id));
    return Promise.resolve(async () => {
      await Promise.all(keys.map((k) => script.call(client, k)));
      return keys.length;
    });
  },
};

/** INFO commandstats as { command: [calls, usec] }, and the server's CPU seconds. */
export async function redisStats(
  url: string,
): Promise<{ commands: Map<string, [number, number]>; cpu: number }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('commandstats');
    const commands = new Map<string, [number, number]>();
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      commands.set(m[1] as string, [Number(m[2]), Number(m[3])]);
    }
    return { commands, cpu: await redisCpuSeconds(client) };
  } finally {
    client.disconnect();
  }
}

/** The Redis side of a loop: commands by time spent, and CPU per operation of the loop. */
export function redisDelta(
  before: Awaited<ReturnType<typeof redisStats>>,
  after: Awaited<ReturnType<typeof redisStats>>,
  operations: number,
): string {
  const rows = [...after.commands.entries()]
    .map(([cmd, [calls, usec]]) => {
      const [c0, u0] = before.commands.get(cmd) ?? [0, 0];
      return { cmd, calls: calls - c0, usec: usec - u0 };
    })
    .filter((r) => r.calls > 0)
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 10)
    .map(
      (r) =>
        `  ${r.cmd.padEnd(12)} ${String(r.calls).padStart(9)} calls  ${(r.usec / r.calls).toFixed(2).padStart(8)} µs/call  ${(r.usec / 1e6).toFixed(2)} s`,
    );
  const cpuUs = ((after.cpu - before.cpu) * 1e6) / operations;
  return [
    `  Redis CPU (INFO cpu, whole server) over the loop: ${cpuUs.toFixed(2)} µs per operation.`,
    '  Redis INFO commandstats over the loop (commands inside scripts count twice):',
    ...rows,
  ].join('\n');
}
