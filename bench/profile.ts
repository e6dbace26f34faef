/**
 * CPU profiles of focused loops, to find what bounds a scenario (`npm run bench:profile`).
 *
 *   npm run bench:profile -- wrap open register   (default: every loop)
 *   flags: --seconds=N (per loop, default 4), --top=N (rows, default 12), --keep (keep profiles)
 *
 * Each loop runs alone in a child `node --cpu-prof` process against the built package; the
 * profile is then summed per function (self and total time) and brama's functions are named
 * with their src/ line through dist/'s source maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Brama } from 'brama';
import { fail, slow, value } from './functions.js';
import { NEVER_TRIPS, ONE_HOUR } from './peers.js';
import { originalPosition } from './source-map.js';

/** Each loop returns one batch of work; the child repeats it until its time is up. */
const LOOPS: Record<string, () => () => Promise<number> | number> = {
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
};

const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(flag('seconds') ?? 4);

async function child(name: string): Promise<void> {
  const make = LOOPS[name];
  if (make === undefined) throw new Error(`unknown loop ${name}`);
  const batch = make();
  const until = Date.now() + seconds * 1e3;
  let sink = 0;
  while (Date.now() < until) sink += await batch();
  process.stdout.write(`${name}: ${sink} operations\n`);
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
  const lib = /node_modules[\\/](opossum|cockatiel|brama)[\\/]/.exec(file)?.[1];
  return `${name} (${lib === undefined ? '' : `${lib} `}${where})`;
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
  // Total time per function: a node's subtree counts once per function, even when recursive.
  const walk = (id: number, active: Map<string, number>): number => {
    const node = byId.get(id);
    if (node === undefined) return 0;
    const key = describeFrame(node.callFrame);
    const own = selfUs.get(id) ?? 0;
    self.set(key, (self.get(key) ?? 0) + own);
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
  return [
    `  ${(total / 1e6).toFixed(2)} s sampled. Top functions by self time:`,
    ...rows,
    '  brama functions by total time:',
    ...(brama.length === 0 ? ['  (none sampled)'] : brama),
  ].join('\n');
}

function parent(): void {
  const names = args.filter((a) => !a.startsWith('--'));
  const loops = names.length === 0 ? Object.keys(LOOPS) : names;
  const top = Number(flag('top') ?? 12);
  const self = fileURLToPath(import.meta.url);
  for (const name of loops) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'brama-prof-'));
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
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no profile written for ${name}`);
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`\n## ${name} — ${result.stdout.trim()}\n`);
    process.stdout.write(`${summarizeProfile(profile, top)}\n`);
    if (args.includes('--keep')) process.stdout.write(`  profile: ${path.join(dir, file)}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const childLoop = flag('child');
if (childLoop === undefined) parent();
else await child(childLoop);
