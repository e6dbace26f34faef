/**
 * The built `brama` CLI against a Redis Cluster: three masters on loopback ports this file starts
 * (and stops). Given the URL of one node, `status` finds the connections stored on every master,
 * and `open` acts fleet-wide: a process whose store uses a cluster client hears it with the
 * operator's reason, as a remote change. Runs where the other Redis tests run (REDIS_URL, or CI).
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBuilt, runBuiltCli } from '../src/cli/cli-test-support.js';
import { Brama, type BramaEvent } from '../src/index.js';
import { createRedisStore, type RedisStore } from '../src/redis.js';
import { connectionKeys } from '../src/stores/redis/keys.js';
import { redisUrl } from '../src/stores/redis/redis-test-support.js';
import { keySlot, RedisCluster } from './faults/redis-cluster.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

const COUNT = 12;

describeRedis('brama CLI against a Redis Cluster', () => {
  const prefix = `brama-cli-cluster-${randomUUID()}`;
  let cluster: RedisCluster;
  let client: Cluster;
  let store: RedisStore;
  let brama: Brama;
  const events: BramaEvent[] = [];

  beforeAll(async () => {
    checkBuilt();
    cluster = await RedisCluster.start();
    client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    client.on('error', () => {});
    store = createRedisStore({ client, prefix });
    brama = new Brama({ store, maxAttempts: 2 });
    brama.subscribe((event) => void events.push(event));
    for (let i = 0; i < COUNT; i++) brama.register(`svc-${i}`);
    brama.failure('svc-0', { reason: 'boom' });
    await store.ready();
    await store.flush();
  }, 60_000);

  afterAll(async () => {
    await brama?.close();
    await client?.quit().catch(() => undefined);
    await cluster?.stop();
  });

  /** The master serving a connection's keys. */
  const masterOf = (identifier: string): number => {
    const slot = keySlot(connectionKeys(prefix, identifier, null).state);
    return cluster.nodes.findIndex((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
  };

  it('status lists the connections of every master, from one node', async () => {
    const masters = new Set(Array.from({ length: COUNT }, (_, i) => masterOf(`svc-${i}`)));
    expect(masters.size).toBe(3); // the test means something only if they are spread
    const run = await runBuiltCli([
      'status',
      '--json',
      '--redis',
      cluster.nodes[1]!.url,
      '--prefix',
      prefix,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as { identifier: string; failureCount: number }[];
    expect(listed.map((c) => c.identifier).sort()).toEqual(
      Array.from({ length: COUNT }, (_, i) => `svc-${i}`).sort(),
    );
    expect(listed.find((c) => c.identifier === 'svc-0')?.failureCount).toBe(1);
  }, 30_000);

  it('open acts fleet-wide: the process hears it with the reason, as a remote change', async () => {
    const target = 'svc-7';
    const run = await runBuiltCli([
      'open',
      target,
      '--reason',
      'maintenance',
      '--redis',
      cluster.nodes[2]!.url,
      '--prefix',
      prefix,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const deadline = Date.now() + 5_000;
    const opened = () => events.find((e) => e.type === 'circuit_opened' && e.identifier === target);
    while (opened() === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const event = opened();
    expect(event?.type === 'circuit_opened' && event.data).toMatchObject({
      origin: 'remote',
      reason: 'maintenance',
      to: 'open',
    });
    expect(brama.status(target).state).toBe('open');
  }, 30_000);
});
