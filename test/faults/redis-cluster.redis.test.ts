/**
 * Tests of the `RedisCluster` fixture, and of how brama's kind of Redis usage (hash-tagged Lua
 * scripts through `defineCommand`, PUBLISH from Lua, a `duplicate()` subscriber) behaves on a
 * real cluster with ioredis' `Cluster`: what survives a killed master and what fails, how. The
 * ioredis expectations pin ioredis 6.0.0 with Redis 7; a change there should fail here first.
 * Skipped when `redisUrl` is undefined (outside CI without REDIS_URL), like the other
 * `*.redis.test.ts` files.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, redisUrl } from '../../src/stores/redis/redis-test-support.js';
import { eventually, within } from './fleet-support.js';
import { RedisCluster, keySlot, type RedisClusterNode } from './redis-cluster.js';

const describeCluster = redisUrl === undefined ? describe.skip : describe;

/** INCR, then a busy loop of `ARGV[1]` ms: the reply is still owed while the server works. */
const SLOW_INCR =
  "local v = redis.call('INCR', KEYS[1]) local t = redis.call('TIME') " +
  'local start = t[1] * 1000000 + t[2] repeat t = redis.call("TIME") ' +
  'until t[1] * 1000000 + t[2] - start > tonumber(ARGV[1]) * 1000 return v';
/** Three keys of one hash tag, like a connection's state, trials and seen keys. */
const TOUCH3 =
  "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SADD', KEYS[2], ARGV[1]) " +
  "return {redis.call('GET', KEYS[1]), redis.call('SCARD', KEYS[2]), redis.call('INCR', KEYS[3])}";
/** PUBLISH from inside a script, as brama's scripts announce changes. */
const PUBLISH_FROM_LUA = "return redis.call('PUBLISH', ARGV[1], ARGV[2])";

/** The clients a test made, closed after it. */
let clients: (Redis | Cluster)[] = [];

afterEach(() => {
  for (const client of clients) client.disconnect();
  clients = [];
});

/** An ioredis Cluster client on `cluster`, closed after the test. */
function clusterClient(cluster: RedisCluster, options: ClusterOptions = {}): Cluster {
  const client = new Cluster(cluster.startupNodes, options);
  client.on('error', () => {}); // asserted through events where it matters
  clients.push(client);
  return client;
}

/** A single-node client on one master, closed after the test. */
function direct(node: RedisClusterNode): Redis {
  const client = connect(node.url);
  clients.push(client);
  return client;
}

/** The method `defineCommand(name)` added to `client` (ioredis' types do not know it). */
function script<T>(client: Cluster, name: string): (...args: string[]) => Promise<T> {
  const method: unknown = (client as unknown as Record<string, unknown>)[name];
  if (typeof method !== 'function') throw new Error(`no command ${name} on the client`);
  return (...args) => (method as (...a: string[]) => Promise<T>).apply(client, args);
}

/** `{ name: { calls, failed } }` from INFO commandstats. */
async function commandStats(
  redis: Redis,
): Promise<Record<string, { calls: number; failed: number }>> {
  const stats: Record<string, { calls: number; failed: number }> = {};
  for (const line of (await redis.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),.*failed_calls=(\d+)/.exec(line);
    if (match !== null) stats[match[1]!] = { calls: Number(match[2]), failed: Number(match[3]) };
  }
  return stats;
}

/** The master holding the connection named `ioredis-cluster(subscriber)` with a subscription. */
async function subscriberNode(cluster: RedisCluster): Promise<RedisClusterNode> {
  for (const node of cluster.nodes) {
    if (!node.server.alive) continue;
    const list = String(await direct(node).client('LIST'));
    if (/name=ioredis-cluster\(subscriber\) .* sub=[1-9]/.test(list)) return node;
  }
  throw new Error('no master holds the subscriber connection');
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Runs `body` with PATH holding only links to the named binaries (found on the real PATH). */
async function withOnlyOnPath(binaries: string[], body: () => Promise<void>): Promise<void> {
  const original = process.env.PATH ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'brama-path-'));
  for (const name of binaries) {
    const found = original
      .split(delimiter)
      .map((entry) => join(entry, name))
      .find((path) => existsSync(path));
    if (found !== undefined) symlinkSync(found, join(dir, name));
  }
  process.env.PATH = dir;
  try {
    await body();
  } finally {
    process.env.PATH = original;
    rmSync(dir, { recursive: true, force: true });
  }
}

describeCluster('RedisCluster (one cluster for the tests that kill nothing)', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('forms three masters on loopback that cover every slot once', async () => {
    expect(cluster.nodes).toHaveLength(3);
    const slots = cluster.nodes.flatMap(({ slots }) => slots).sort(([a], [b]) => a - b);
    expect(slots[0]![0]).toBe(0);
    expect(slots.at(-1)![1]).toBe(16_383);
    for (let i = 1; i < slots.length; i++) expect(slots[i]![0]).toBe(slots[i - 1]![1] + 1);
    for (const node of cluster.nodes) {
      const redis = direct(node);
      expect(String(await redis.cluster('INFO'))).toMatch(/^cluster_state:ok\r?$/m);
      expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      const table = String(await redis.cluster('NODES'));
      expect(table.match(/ 127\.0\.0\.1:\d+@\d+ /g)).toHaveLength(3);
      expect(table).toContain(`127.0.0.1:${node.port}@${node.busPort} myself,master`);
    }
  });

  it('keySlot and masterFor agree with Redis, hash tags included', async () => {
    const redis = direct(cluster.nodes[0]!);
    for (const key of ['foo', '123456789', 'p:{x|id}:state', '{}x', 'a{b}c{d}', 'ключ']) {
      expect(keySlot(key)).toBe(await redis.cluster('KEYSLOT', key));
    }
    expect(keySlot('p:{x|id}:state')).toBe(keySlot('p:{x|id}:trials'));
    for (const node of cluster.nodes) {
      const key = cluster.keyOn(node, 'owner-');
      expect(cluster.masterFor(key)).toBe(node);
      await expect(direct(node).set(key, 'here')).resolves.toBe('OK');
      const other = cluster.nodes.find((n) => n !== node)!;
      await expect(direct(other).set(key, 'there')).rejects.toThrow(/^MOVED/);
    }
  });

  it('an auto-pipelined Cluster client writes and reads keys on all three masters', async () => {
    const client = clusterClient(cluster, { enableAutoPipelining: true });
    const keys = cluster.nodes.map((node) => cluster.keyOn(node, 'rw-'));
    await Promise.all(keys.map((key) => client.set(key, key)));
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys);
    for (const key of keys) expect(await direct(cluster.masterFor(key)).get(key)).toBe(key);
  });

  it('defineCommand runs 3-key hash-tagged scripts; NOSCRIPT falls back per node', async () => {
    const client = clusterClient(cluster, { enableAutoPipelining: true });
    client.defineCommand('touch3', { lua: TOUCH3, numberOfKeys: 3 });
    const touch3 = script<unknown>(client, 'touch3');
    const touch = (tag: string, value: string): Promise<unknown> =>
      touch3(`p:{${tag}}:state`, `p:{${tag}}:trials`, `p:{${tag}}:seen`, value);
    const tags = cluster.nodes.map((node) => cluster.keyOn(node, 'x|id'));
    const nodes = cluster.nodes.map(direct);
    await Promise.all(nodes.map((redis) => redis.config('RESETSTAT')));

    // Ten calls per tag in one tick: one pipeline per master, the first call of each socket
    // sent as EVAL (ioredis remembers per socket which scripts it sent), the others EVALSHA.
    const burst = (value: string): Promise<unknown[]> =>
      Promise.all(tags.flatMap((tag) => Array.from({ length: 10 }, () => touch(tag, value))));
    expect((await burst('a')).slice(0, 2)).toEqual([
      ['a', 1, 1],
      ['a', 1, 2],
    ]);
    for (const redis of nodes) {
      const stats = await commandStats(redis);
      expect(stats.eval).toEqual({ calls: 1, failed: 0 });
      expect(stats.evalsha).toEqual({ calls: 9, failed: 0 });
    }

    // A master that lost its scripts answers NOSCRIPT; ioredis sends EVAL there and only there.
    await nodes[1]!.script('FLUSH');
    const results = await burst('b');
    expect(results.filter((r) => JSON.stringify(r).startsWith('["b",2,'))).toHaveLength(30);
    const after = await Promise.all(nodes.map(commandStats));
    expect(after.map((stats) => stats.eval?.calls)).toEqual([1, 2, 1]);
    expect(after.map((stats) => stats.evalsha?.failed)).toEqual([0, 10, 0]);

    // Keys of different slots: refused before sending when pipelined (CROSSSLOT otherwise).
    await expect(touch3('a', 'b', 'c', 'v')).rejects.toThrow(
      'All the keys in a pipeline command should belong to the same slot',
    );
  });

  it("PUBLISH from Lua on any master reaches a duplicate()'s subscriber on another", async () => {
    const client = clusterClient(cluster);
    const subscriber = client.duplicate();
    clients.push(subscriber);
    const got: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => got.push(message));
    await subscriber.subscribe('brama-test:changes');
    const home = await subscriberNode(cluster);
    const receivers: unknown[] = [];
    for (const node of cluster.nodes) {
      const key = cluster.keyOn(node, 'pub-');
      receivers.push(await client.eval(PUBLISH_FROM_LUA, 1, key, 'brama-test:changes', node.id));
    }
    await eventually(() => expect(got.sort()).toEqual(cluster.nodes.map((n) => n.id).sort()));
    // PUBLISH counts only the receivers on the master that ran it; the bus carries the rest.
    expect(receivers).toEqual(cluster.nodes.map((node) => (node === home ? 1 : 0)));
  });

  it('sharded pub/sub needs shardedSubscribers, and a script SPUBLISHes only to its slot', async () => {
    const client = clusterClient(cluster);
    const subscriber = client.duplicate([], { shardedSubscribers: true });
    clients.push(subscriber);
    const got: string[] = [];
    subscriber.on('smessage', (_channel: string, message: string) => got.push(message));
    const [a, b] = cluster.nodes.map((node) => cluster.keyOn(node, 'x|id'));
    await subscriber.ssubscribe(`brama-test:{${a}}:changes`);
    await subscriber.ssubscribe(`brama-test:{${b}}:changes`);
    const spublish = "return redis.call('SPUBLISH', ARGV[1], ARGV[2])";
    await client.eval(spublish, 1, `p:{${a}}:state`, `brama-test:{${a}}:changes`, 'same slot');
    await expect(
      client.eval(spublish, 1, `p:{${a}}:state`, `brama-test:{${b}}:changes`, 'other slot'),
    ).rejects.toThrow(/non local key/);
    await eventually(() => expect(got).toEqual(['same slot']));
  });

  it('a reply lost with its connection means the command runs twice (at least once)', async () => {
    const client = clusterClient(cluster, { enableAutoPipelining: true });
    client.defineCommand('slowIncr', { lua: SLOW_INCR, numberOfKeys: 1 });
    const node = cluster.nodes[0]!;
    const key = cluster.keyOn(node, 'resend-');
    await client.get(key); // connects to the master
    const reply = script<number>(client, 'slowIncr')(key, '300');
    await sleep(50);
    // The connection dies after the INCR ran and before its reply: ioredis' cluster retry (not
    // autoResendUnfulfilledCommands: cluster nodes never reconnect by default) sends it again.
    client
      .nodes('master')
      .find((redis) => redis.options.port === node.port)!
      .stream.destroy();
    expect(await within(reply, 'the resent script', 3_000)).toBe(2);
    expect(await direct(node).get(key)).toBe('2');
  });
});

describeCluster('RedisCluster (a cluster per test)', () => {
  let cluster: RedisCluster | undefined;

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('a killed master: its keys fail, the others stay readable, the client stays ready', async () => {
    cluster = await RedisCluster.start();
    const [dead, alive] = cluster.nodes as [RedisClusterNode, RedisClusterNode];
    const slow = clusterClient(cluster); // the defaults: maxRedirections 16, retryDelayOnFailover 100
    const fast = clusterClient(cluster, { retryDelayOnFailover: 0, enableAutoPipelining: true });
    const events: string[] = [];
    for (const event of ['error', 'close', 'end', 'reconnecting', 'ready', 'node error']) {
      slow.on(event, () => events.push(event));
    }
    const deadKey = cluster.keyOn(dead, 'dead-');
    const aliveKey = cluster.keyOn(alive, 'alive-');
    await slow.set(aliveKey, 'still here');
    await fast.get(deadKey);
    events.length = 0;

    await cluster.kill(dead);
    let started = performance.now();
    await expect(slow.get(deadKey)).rejects.toThrow(/^Too many Cluster redirections\. Last error/);
    expect(performance.now() - started).toBeGreaterThan(500); // retried for about a second
    started = performance.now();
    await expect(fast.get(deadKey)).rejects.toThrow(/^Connection is closed\.$/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(await slow.get(aliveKey)).toBe('still here');

    await sleep(1_500); // past cluster-node-timeout: the others mark the dead master FAIL
    expect(await slow.get(aliveKey)).toBe('still here');
    expect(
      await direct(alive)
        .get(deadKey)
        .catch((e: Error) => e.message),
    ).toMatch(/^MOVED/);
    expect(slow.status).toBe('ready');
    expect(events).toContain('node error');
    expect(events.filter((e) => e !== 'node error')).toEqual([]);
  });

  it("a duplicate()'s subscriber moves to a live master, without a 'ready' event", async () => {
    cluster = await RedisCluster.start();
    const client = clusterClient(cluster);
    const subscriber = client.duplicate();
    clients.push(subscriber);
    const got: string[] = [];
    const readies: number[] = [];
    subscriber.on('message', (_channel: string, message: string) => got.push(message));
    subscriber.on('ready', () => readies.push(Date.now()));
    await subscriber.subscribe('brama-test:changes');
    const home = await subscriberNode(cluster);
    const publisher = cluster.nodes.find((node) => node !== home)!;
    const publishKey = cluster.keyOn(publisher, 'pub-');
    const readyBefore = readies.length;

    await cluster.kill(home);
    let sent = 0;
    await eventually(async () => {
      const message = `after-${sent++}`;
      await client.eval(PUBLISH_FROM_LUA, 1, publishKey, 'brama-test:changes', message);
      await sleep(50);
      expect(got).toContain(message);
    }, 5_000);
    expect(await subscriberNode(cluster)).not.toBe(home);
    // Whatever was published in between is lost, and nothing on the client says so.
    expect(readies).toHaveLength(readyBefore);
  });

  it('stop() kills every server it started and removes their directories', async () => {
    cluster = await RedisCluster.start();
    const { nodes } = cluster;
    await cluster.stop();
    await cluster.stop(); // idempotent
    for (const node of nodes) {
      expect(node.server.alive).toBe(false);
      expect(() => process.kill(node.server.pid, 0)).toThrow(/ESRCH/);
      expect(existsSync(node.dir)).toBe(false);
      expect(await accepts(node.port)).toBe(false);
      expect(await accepts(node.busPort)).toBe(false);
    }
  });
});

describeCluster('RedisCluster failures', () => {
  it('names redis-cli when it is missing', async () => {
    await withOnlyOnPath(['redis-server'], async () => {
      await expect(RedisCluster.start()).rejects.toThrow(/redis-cli is not on the PATH/);
    });
  });

  it('names redis-server when it is missing', async () => {
    await withOnlyOnPath(['redis-cli'], async () => {
      await expect(RedisCluster.start()).rejects.toThrow(
        /could not start its servers[\s\S]*redis-server is not on the PATH/,
      );
    });
  });

  it("reports redis-cli's output when the cluster cannot form, and kills its servers", async () => {
    const error = await RedisCluster.start({ args: ['--cluster-enabled', 'no'] }).then(
      () => new Error('a cluster formed'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/was refused[\s\S]*is not configured as a cluster node/);
    const ports = /ports \[([\d, ]+)\]/.exec(error.message)![1]!.split(', ').map(Number);
    expect(ports).toHaveLength(3);
    for (const port of ports) expect(await accepts(port)).toBe(false);
  });

  it('gives up after formTimeoutMs', async () => {
    await expect(RedisCluster.start({ formTimeoutMs: 1_000 })).rejects.toThrow(
      /did not form within 1000 ms/,
    );
  });
});
