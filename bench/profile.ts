/**
 * CPU profiles of focused loops, to find what bounds a scenario (`npm run bench:profile`).
 *
 *   npm run bench:profile -- wrap open register   (default: every loop)
 *   flags: --seconds=N (per loop, default 4), --top=N (rows, default 12), --keep (keep profiles)
 *
 * Each loop runs alone in a child `node --cpu-prof` process against the built package; the
 * profile is then summed per function (self and total time) and per library, and brama's
 * functions are named with their src/ line through dist/'s source maps.
 *
 * The fleet loops (`fleet-*`) need the Redis at REDIS_URL (default redis://127.0.0.1:6379);
 * for them the Redis side is shown too: INFO commandstats over the loop (every client of that
 * Redis), where the commands a Lua script runs are counted both on their own and inside the
 * script's EVALSHA time.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Brama } from 'brama';
import { createRedisStore, type RedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import { fail, slow, value } from './functions.js';
import { NEVER_TRIPS, ONE_HOUR } from './peers.js';
import { cleanUp, probe } from './scenarios/fleet.js';
import { originalPosition } from './source-map.js';

type Batch = () => Promise<number> | number;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Run in the child after its loop: closes what the fleet loops opened. */
const closers: (() => Promise<unknown>)[] = [];

/** A Brama on a Redis store with its own key prefix, closed and cleaned up after the loop. */
async function fleetBrama(client?: Redis): Promise<{ brama: Brama; store: RedisStore }> {
  const prefix = `brama-bench-profile-${randomUUID()}`;
  const store = createRedisStore(
    client === undefined ? { url: REDIS_URL, prefix } : { client, prefix },
  );
  const brama = new Brama({ store });
  await store.ready();
  if (store.degraded) throw new Error(`Redis at ${REDIS_URL} is not usable`);
  closers.push(async () => {
    await brama.close();
    client?.disconnect();
    await cleanUp(REDIS_URL, prefix);
  });
  return { brama, store };
}

/** Reports per tick in the fleet loops, as in scenario 6. */
const PER_TICK = 1_000;

/** Each loop returns one batch of work; the child repeats it until its time is up. */
const LOOPS: Record<string, () => Batch | Promise<Batch>> = {
  raw: () => async () => {
    let s = 0;
    for (let i = 0; i < 10_000; i++) s += await value();
    return s;
  },
  wrap: () => {
    const wrapped = new Brama().wrap('w', value);
    return async () => {
      let s = 0;
      for (let i = 0; i < 10_000; i++) s += await wrapped();
      return s;
    };
  },
  run: () => {
    const brama = new Brama();
    return async () => {
      let s = 0;
      for (let i = 0; i < 10_000; i++) s += await brama.run('r', value);
      return s;
    };
  },
  timeout: () => {
    const brama = new Brama();
    const options = { timeout: 3_000 };
    return async () => {
      let s = 0;
      for (let i = 0; i < 10_000; i++) s += await brama.run('t', value, options);
      return s;
    };
  },
  pair: () => {
    const brama = new Brama();
    brama.register('p');
    return () => {
      let s = 0;
      for (let i = 0; i < 100_000; i++) {
        if (brama.isAvailable('p')) {
          brama.success('p');
          s++;
        }
      }
      return s;
    };
  },
  'failure-report': () => {
    const brama = new Brama();
    brama.register('f', { maxAttempts: NEVER_TRIPS });
    return () => {
      let s = 0;
      for (let i = 0; i < 100_000; i++) {
        brama.failure('f');
        s++;
      }
      return s;
    };
  },
  failure: () => {
    const wrapped = new Brama().wrap('f', fail, { maxAttempts: NEVER_TRIPS });
    return async () => {
      let s = 0;
      for (let i = 0; i < 10_000; i++) s += await wrapped().catch(() => 1);
      return s;
    };
  },
  open: () => {
    const brama = new Brama();
    const wrapped = brama.wrap('o', fail);
    brama.register('o');
    brama.openCircuit('o', { expiry: ONE_HOUR });
    return async () => {
      let s = 0;
      for (let i = 0; i < 10_000; i++) s += await wrapped().catch(() => 1);
      return s;
    };
  },
  register: () => {
    let round = 0;
    return () => {
      const brama = new Brama();
      const prefix = `r${round++}-`;
      for (let i = 0; i < 100_000; i++) brama.register(`${prefix}${i}`);
      return brama.isAvailable(`${prefix}0`) ? 1 : 0;
    };
  },
  'throughput-raw': () => async () => {
    let s = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const v = await slow();
        s += v;
      }
    };
    await Promise.all(Array.from({ length: 1_000 }, worker));
    return s;
  },
  throughput: () => {
    const wrapped = new Brama().wrap('t', slow);
    return async () => {
      let s = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 20; i++) {
          const v = await wrapped();
          s += v;
        }
      };
      await Promise.all(Array.from({ length: 1_000 }, worker));
      return s;
    };
  },
  'fleet-available': async () => {
    const { brama, store } = await fleetBrama();
    brama.register('a');
    brama.success('a');
    await store.flush();
    return () => {
      let s = 0;
      for (let i = 0; i < 1_000_000; i++) if (brama.isAvailable('a')) s++;
      return s;
    };
  },
  'fleet-report': async () => {
    const { brama, store } = await fleetBrama();
    brama.register('r');
    await store.flush();
    return async () => {
      for (let i = 0; i < PER_TICK; i++) brama.success('r');
      await store.flush();
      return PER_TICK;
    };
  },
  'fleet-script': async () => {
    // brama's report script straight through ioredis (as scenario 6's raw row): no brama
    // around it, to split the process's time between the client and brama.
    const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
    const { brama, store } = await fleetBrama(client);
    brama.register('raw', { maxAttempts: NEVER_TRIPS });
    await store.flush();
    const script: unknown = Reflect.get(client, 'bramaV2Report');
    if (typeof script !== 'function') throw new Error('no bramaV2Report command on the client');
    const s = brama.status('raw');
    const tag = `${store.prefix}:{|raw}`;
    const settings = [s.maxAttempts, s.expiry, s.expiryStrategy, s.initialExpiry, s.maxExpiry];
    settings.push(s.backoffFactor, s.halfOpenProbes, s.probeTimeout);
    const keys = [`${tag}:state`, `${tag}:trials`, `${tag}:seen`];
    const args = [...keys, '86400000', ...settings.map(String), 'success', '', '', '', '', '250'];
    args.push(`${store.prefix}:changes`, 'bench-raw', '{|raw}', '');
    const call = script as (...a: string[]) => Promise<unknown>;
    return async () => {
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < PER_TICK; i++) replies.push(call.apply(client, args));
      await Promise.all(replies);
      return PER_TICK;
    };
  },
};

const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(flag('seconds') ?? 4);

async function child(name: string): Promise<void> {
  const make = LOOPS[name];
  if (make === undefined) throw new Error(`unknown loop ${name}`);
  const batch = await make();
  const start = performance.now();
  const until = Date.now() + seconds * 1e3;
  let sink = 0;
  while (Date.now() < until) sink += await batch();
  const perSecond = Math.round((sink * 1e3) / (performance.now() - start));
  for (const close of closers) await close();
  process.stdout.write(
    `${name}: ${sink} operations (${perSecond.toLocaleString('en-US')}/s under the profiler)\n`,
  );
}

/** INFO commandstats as { command: [calls, usec] }. */
async function commandStats(): Promise<Map<string, [number, number]>> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('commandstats');
    const out = new Map<string, [number, number]>();
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      out.set(m[1] as string, [Number(m[2]), Number(m[3])]);
    }
    return out;
  } finally {
    client.disconnect();
  }
}

function statsDelta(
  before: Map<string, [number, number]>,
  after: Map<string, [number, number]>,
): string {
  const rows = [...after.entries()]
    .map(([cmd, [calls, usec]]) => {
      const [c0, u0] = before.get(cmd) ?? [0, 0];
      return { cmd, calls: calls - c0, usec: usec - u0 };
    })
    .filter((r) => r.calls > 0)
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 10)
    .map(
      (r) =>
        `  ${r.cmd.padEnd(12)} ${String(r.calls).padStart(9)} calls  ${(r.usec / r.calls).toFixed(2).padStart(8)} µs/call  ${(r.usec / 1e6).toFixed(2)} s`,
    );
  return ['  Redis INFO commandstats over the loop (all clients):', ...rows].join('\n');
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function describeFrame(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const where =
    (file.includes(`${path.sep}brama${path.sep}dist${path.sep}`)
      ? originalPosition(file, frame.lineNumber, frame.columnNumber)
      : null) ?? `${path.basename(file)}:${frame.lineNumber + 1}`;
  const lib = /node_modules[\\/](opossum|cockatiel|brama|ioredis)[\\/]/.exec(file)?.[1];
  return `${name} (${lib === undefined ? '' : `${lib} `}${where})`;
}

/** Which library (or runtime bucket) a frame belongs to, for the self-time split. */
function originOf(frame: ProfileNode['callFrame']): string {
  const lib = /node_modules[\\/](opossum|cockatiel|brama|ioredis)[\\/]/.exec(frame.url)?.[1];
  if (lib !== undefined) return lib;
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.url.startsWith('node:')) return 'Node core (JS)';
  if (frame.url === '') return 'V8 and native';
  return 'other JS';
}

function summarizeProfile(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const groups = new Map<string, number>();
  // Total time per function: a node's subtree counts once per function, even when recursive.
  const walk = (id: number, active: Map<string, number>): number => {
    const node = byId.get(id);
    if (node === undefined) return 0;
    const key = describeFrame(node.callFrame);
    const own = selfUs.get(id) ?? 0;
    self.set(key, (self.get(key) ?? 0) + own);
    const group = originOf(node.callFrame);
    groups.set(group, (groups.get(group) ?? 0) + own);
    active.set(key, (active.get(key) ?? 0) + 1);
    let sum = own;
    for (const c of node.children ?? []) sum += walk(c, active);
    const depth = (active.get(key) ?? 1) - 1;
    if (depth === 0) {
      active.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    } else active.set(key, depth);
    return sum;
  };
  const root = profile.nodes[0];
  if (root !== undefined) walk(root.id, new Map());
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${pct(us)} self  ${pct(inclusive.get(k) ?? 0)} total  ${k}`);
  const brama = [...inclusive.entries()]
    .filter(([k]) => k.includes('(brama '))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${pct(self.get(k) ?? 0)} self  ${pct(us)} total  ${k}`);
  const byGroup = [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([g, us]) => `${g} ${pct(us).trim()}`)
    .join(', ');
  return [
    `  ${(total / 1e6).toFixed(2)} s sampled. Self time by origin: ${byGroup}.`,
    '  Top functions by self time:',
    ...rows,
    '  brama functions by total time:',
    ...(brama.length === 0 ? ['  (none sampled)'] : brama),
  ].join('\n');
}

async function parent(): Promise<void> {
  const names = args.filter((a) => !a.startsWith('--'));
  const loops = names.length === 0 ? Object.keys(LOOPS) : names;
  const top = Number(flag('top') ?? 12);
  const self = fileURLToPath(import.meta.url);
  let redis: string | null = null;
  if (loops.some((l) => l.startsWith('fleet-'))) {
    redis = await probe(REDIS_URL).then(
      () => null,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }
  for (const name of loops) {
    const fleet = name.startsWith('fleet-');
    if (fleet && redis !== null) {
      process.stdout.write(`\n## ${name} — skipped: Redis at ${REDIS_URL}: ${redis}\n`);
      continue;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'brama-prof-'));
    const before = fleet ? await commandStats() : null;
    const result = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '--cpu-prof-interval=50',
        self,
        `--child=${name}`,
        `--seconds=${seconds}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (result.status !== 0) throw new Error(`loop ${name} failed`);
    const after = fleet ? await commandStats() : null;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no profile written for ${name}`);
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`\n## ${name} — ${result.stdout.trim()}\n`);
    process.stdout.write(`${summarizeProfile(profile, top)}\n`);
    if (before !== null && after !== null) process.stdout.write(`${statsDelta(before, after)}\n`);
    if (args.includes('--keep')) process.stdout.write(`  profile: ${path.join(dir, file)}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const childLoop = flag('child');
if (childLoop === undefined) await parent();
else await child(childLoop);
