/**
 * A throwaway Redis Cluster for fault tests (test-only): three masters, no replicas, each a
 * `redis-server` child process with `--cluster-enabled yes` on a free 127.0.0.1 port (cluster bus
 * on another free port, `--cluster-port`, so Redis >= 7), joined by `redis-cli --cluster create`.
 * A test can find which master serves a key, SIGKILL one master, and stop them all.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, freePort } from './redis-server.js';

/** Every node listens here and nowhere else. */
const HOST = '127.0.0.1';
/** `redis-cli --cluster create` refuses fewer than three masters. */
const MASTERS = 3;
/** The hash slots of a Redis Cluster. */
const SLOTS = 16_384;
/** How long starting the servers, `--cluster create` and agreeing on the slots may take. */
const FORM_TIMEOUT_MS = 10_000;
/** How often the nodes are asked whether the cluster has formed. */
const POLL_MS = 50;
/** The colour codes `redis-cli --cluster` writes even when its output is not a terminal. */
// eslint-disable-next-line no-control-regex -- matching the ESC character is the point
const ANSI_COLOR = /\x1b\[[\d;]*m/g;
/** How much of `redis-cli --cluster create`'s output to keep for error messages. */
const LOG_LIMIT = 4_000;

/** How to run the cluster; every field has a default suited to fault tests. */
export interface RedisClusterOptions {
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before the others mark it as
   * failing. Small, so that a killed master is noticed quickly.
   * @default 1000
   */
  readonly nodeTimeoutMs?: number;
  /**
   * `cluster-require-full-coverage`: whether the cluster stops serving every slot while any slot
   * has no live master. Off, so that the surviving masters keep serving their slots.
   * @default false
   */
  readonly requireFullCoverage?: boolean;
  /**
   * How long `start` may take (servers up, `--cluster create`, every node reporting the slots
   * covered) before it gives up, kills what it started and rejects.
   * @default 10000
   */
  readonly formTimeoutMs?: number;
  /**
   * Extra `redis-server` arguments for every node, after the cluster defaults so they can
   * override them.
   * @example ['--cluster-allow-reads-when-down', 'yes']
   */
  readonly args?: readonly string[];
}

/** An inclusive range of hash slots, `[first, last]`. */
export type SlotRange = readonly [first: number, last: number];

/** One master of the cluster. */
export interface RedisClusterNode {
  /** Its client port on 127.0.0.1. */
  readonly port: number;
  /** Its cluster bus port on 127.0.0.1. */
  readonly busPort: number;
  /** The URL a single-node client connects to. */
  readonly url: string;
  /** Its cluster node id. */
  readonly id: string;
  /** The hash slots it serves, as `--cluster create` assigned them. */
  readonly slots: readonly SlotRange[];
  /** Its process (for `pause`/`resume`; kill it with `RedisCluster.kill`). */
  readonly server: RedisServer;
  /** Its working directory, where `nodes.conf` lives. */
  readonly dir: string;
}

/** A 3-master Redis Cluster on loopback, started by `RedisCluster.start()`. */
export class RedisCluster {
  private stopped = false;

  private constructor(
    /** The masters, in the order of their slots (the first serves slot 0). */
    readonly nodes: readonly RedisClusterNode[],
  ) {}

  /**
   * Starts three cluster-enabled servers, joins them with `redis-cli --cluster create` and
   * resolves once every node reports `cluster_state:ok` with all slots covered by three masters.
   * Rejects with the output of `redis-cli` and of the servers when a binary is missing or the
   * cluster does not form within `formTimeoutMs`; whatever it started is then killed.
   */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const timeoutMs = options.formTimeoutMs ?? FORM_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    // Before any server starts: a missing redis-cli fails fast and leaves nothing to clean.
    await redisCli(['--version'], Math.min(timeoutMs, 5_000));
    const started: Started[] = [];
    const report: Report = { create: '', info: [] };
    try {
      for (let i = 0; i < MASTERS; i++) started.push(await startNode(options));
    } catch (error) {
      throw await abandon(started, report, 'could not start its servers', error);
    }
    try {
      const addresses = started.map(({ server }) => `${HOST}:${server.port}`);
      const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0'];
      report.create = await redisCli([...create, '--cluster-yes'], deadline - Date.now());
    } catch (error) {
      const what = Date.now() >= deadline ? `did not form within ${timeoutMs} ms` : 'was refused';
      throw await abandon(started, report, what, error);
    }
    for (;;) {
      report.info = await Promise.all(
        started.map(({ server }) =>
          nodeCli(server.port, 'CLUSTER', 'INFO').catch((error: Error) => error.message),
        ),
      );
      if (report.info.every(hasFormed)) break;
      if (Date.now() > deadline) {
        throw await abandon(started, report, `did not form within ${timeoutMs} ms`);
      }
      await sleep(POLL_MS);
    }
    try {
      const nodes = await Promise.all(started.map(describeNode));
      nodes.sort((a, b) => (a.slots[0]?.[0] ?? SLOTS) - (b.slots[0]?.[0] ?? SLOTS));
      return new RedisCluster(nodes);
    } catch (error) {
      throw await abandon(started, report, 'formed, but its slot table was unreadable', error);
    }
  }

  /** The nodes as ioredis `new Cluster(startupNodes)` wants them. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map(({ port }) => ({ host: HOST, port }));
  }

  /** The master serving `key`'s hash slot (from the slot table read at start). */
  masterFor(key: string): RedisClusterNode {
    const slot = keySlot(key);
    const node = this.nodes.find(({ slots }) =>
      slots.some(([first, last]) => first <= slot && slot <= last),
    );
    if (node === undefined) throw new Error(`no master serves slot ${slot} (key ${key})`);
    return node;
  }

  /**
   * The first of `${prefix}0`, `${prefix}1`, ... that `node` serves. Without braces in `prefix`
   * it also works as a hash tag: every `a:{tag}:b` lands on `node` too.
   */
  keyOn(node: RedisClusterNode, prefix = 'key-'): string {
    for (let i = 0; ; i++) {
      const key = `${prefix}${i}`;
      if (this.masterFor(key) === node) return key;
    }
  }

  /** SIGKILLs one master and waits until it has exited; the others keep running. */
  async kill(node: RedisClusterNode): Promise<void> {
    await node.server.kill();
  }

  /** SIGKILLs every master and removes their directories; calling it again does nothing. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.nodes.map(({ server }) => server.kill()));
    for (const { dir } of this.nodes) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The hash slot of `key` as Redis Cluster computes it: CRC16 (XMODEM) of its UTF-8 bytes, or of
 * its hash tag (what lies between the first `{` and the next `}`, when not empty), modulo 16384.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % SLOTS;
}

/** The cluster settings of every node, before the caller's `args`. */
function clusterArgs(busPort: number, options: RedisClusterOptions): string[] {
  return [
    '--cluster-enabled',
    'yes',
    // Relative to --dir, so each node writes its own.
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-port',
    String(busPort),
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 1_000),
    '--cluster-require-full-coverage',
    options.requireFullCoverage === true ? 'yes' : 'no',
  ];
}

/** A server started for the cluster, before the cluster has formed. */
interface Started {
  readonly server: RedisServer;
  readonly dir: string;
  readonly busPort: number;
}

/** What the cluster said while forming, for the error message when it does not. */
interface Report {
  create: string;
  info: string[];
}

/** Starts one cluster-enabled server in a fresh directory. */
async function startNode(options: RedisClusterOptions): Promise<Started> {
  const dir = RedisServer.tempDir();
  // The bus would default to port + 10000, which may be taken or past 65535.
  const busPort = await freePort();
  const args = [...clusterArgs(busPort, options), ...(options.args ?? [])];
  try {
    return { server: await RedisServer.start(undefined, { dir, args }), dir, busPort };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Reads a started node's id and slots once the cluster has formed. */
async function describeNode({ server, dir, busPort }: Started): Promise<RedisClusterNode> {
  const id = (await nodeCli(server.port, 'CLUSTER', 'MYID')).trim();
  const slots = slotsOf(await nodeCli(server.port, 'CLUSTER', 'NODES'), id);
  return Object.freeze({ port: server.port, busPort, url: server.url, id, slots, server, dir });
}

/**
 * Kills the servers of a cluster that did not form, removes their directories, and returns the
 * error to throw: what went wrong, its cause, and everything Redis said meanwhile.
 */
async function abandon(
  started: readonly Started[],
  report: Report,
  what: string,
  cause?: unknown,
): Promise<Error> {
  await Promise.all(started.map(({ server }) => server.kill()));
  for (const { dir } of started) rmSync(dir, { recursive: true, force: true });
  const ports = started.map(({ server }) => server.port).join(', ');
  const sections = [
    `Redis Cluster on 127.0.0.1 ports [${ports}] ${what}`,
    cause instanceof Error ? `cause: ${cause.message}` : '',
    report.create === '' ? '' : `redis-cli --cluster create said:\n${report.create}`,
    ...report.info.map((info, i) => `CLUSTER INFO of node ${i + 1}:\n${info}`),
    ...started.map(({ server }) => `redis-server ${server.port} output:\n${server.output}`),
  ];
  return new Error(sections.filter((section) => section !== '').join('\n\n'));
}

/**
 * Whether one node's CLUSTER INFO says the cluster is usable from there: with full coverage
 * off, `cluster_state:ok` alone can come before the node has learnt every slot's master.
 */
function hasFormed(info: string): boolean {
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  return (
    field('cluster_state') === 'ok' &&
    field('cluster_slots_assigned') === String(SLOTS) &&
    field('cluster_slots_ok') === String(SLOTS) &&
    field('cluster_known_nodes') === String(MASTERS) &&
    field('cluster_size') === String(MASTERS)
  );
}

/** The slot ranges of node `id` in a CLUSTER NODES table (migration markers `[...]` skipped). */
function slotsOf(table: string, id: string): SlotRange[] {
  const line = table.split('\n').find((row) => row.startsWith(`${id} `));
  if (line === undefined) throw new Error(`node ${id} is not in CLUSTER NODES:\n${table}`);
  // id, address, flags, master, ping-sent, pong-recv, config-epoch, link-state, then slots.
  return line
    .trim()
    .split(' ')
    .slice(8)
    .filter((entry) => !entry.startsWith('['))
    .map((entry): SlotRange => {
      const [first = NaN, last = first] = entry.split('-').map(Number);
      return [first, last];
    });
}

/** Runs one command on the node at `port` through `redis-cli` (one second at most). */
function nodeCli(port: number, ...command: string[]): Promise<string> {
  return redisCli(['-h', HOST, '-p', String(port), ...command], 1_000);
}

/**
 * Runs `redis-cli` with `args` and resolves with its output; rejects with the output when it is
 * missing, exits non-zero, or runs longer than `timeoutMs` (then it is killed).
 */
function redisCli(args: readonly string[], timeoutMs: number): Promise<string> {
  const timeout = Math.max(1, Math.round(timeoutMs));
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.replace(ANSI_COLOR, '').trim().slice(-LOG_LIMIT);
      if (error === null) return resolve(output);
      const why =
        error.code === 'ENOENT'
          ? 'redis-cli is not on the PATH'
          : error.killed
            ? `killed after ${timeout} ms`
            : `exit code ${String(error.code)}`;
      reject(new Error(`redis-cli ${args.join(' ')} failed (${why}); output:\n${output}`));
    });
  });
}
