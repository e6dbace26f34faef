/**
 * Tests of the `RedisServer` options that fault tests use to restart Redis from an older snapshot
 * (`dir`) or with a different configuration (`args`). Each test starts its own `redis-server`;
 * skipped when `redisUrl` is undefined (outside CI without REDIS_URL), like the other
 * `*.redis.test.ts` files.
 */
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, redisUrl } from '../../src/stores/redis/redis-test-support.js';
import { RedisServer } from './redis-server.js';

const describeServer = redisUrl === undefined ? describe.skip : describe;

describeServer('RedisServer options', () => {
  let servers: RedisServer[] = [];
  let clients: Redis[] = [];
  let dirs: string[] = [];

  afterEach(async () => {
    for (const client of clients) client.disconnect();
    clients = [];
    await Promise.all(servers.map((s) => s.kill()));
    servers = [];
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  function track(server: RedisServer): RedisServer {
    servers.push(server);
    return server;
  }

  function client(server: RedisServer): Redis {
    const redis = connect(server.url);
    clients.push(redis);
    return redis;
  }

  function tempDir(): string {
    const dir = RedisServer.tempDir();
    dirs.push(dir);
    return dir;
  }

  it('with a dir, restart() comes back with what the last SAVE wrote, nothing later', async () => {
    const dir = tempDir();
    const first = track(await RedisServer.start(undefined, { dir }));
    const before = client(first);
    const [, served] = await before.config('GET', 'dir'); // Redis reports its cwd, symlinks resolved
    expect(served).toBe(realpathSync(dir));
    await before.set('saved', '1');
    expect(await before.save()).toBe('OK');
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
    await before.set('unsaved', '2');

    const second = track(await first.restart());
    expect(first.alive).toBe(false);
    expect(second.alive).toBe(true);
    expect(second.port).toBe(first.port);
    expect(second.pid).not.toBe(first.pid);
    expect(second.options).toEqual({ dir });
    const after = client(second);
    expect(await after.get('saved')).toBe('1');
    expect(await after.get('unsaved')).toBeNull();
    expect(await after.dbsize()).toBe(1);
  });

  it('without a dir, nothing is persisted and restart() comes back empty', async () => {
    const first = track(await RedisServer.start());
    const before = client(first);
    expect(await before.config('GET', 'save')).toEqual(['save', '']);
    expect(await before.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    await before.set('k', 'v');

    const second = track(await first.restart());
    expect(second.port).toBe(first.port);
    expect(await client(second).dbsize()).toBe(0);
  });

  it('passes args through, and keeps them across restart()', async () => {
    const args = ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru'];
    const first = track(await RedisServer.start(undefined, { args }));
    args.push('--maxmemory-samples', '3'); // a later change of the caller's array is not used
    const check = async (server: RedisServer): Promise<void> => {
      const redis = client(server);
      expect(await redis.config('GET', 'maxmemory')).toEqual([
        'maxmemory',
        String(2 * 1024 * 1024),
      ]);
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual([
        'maxmemory-policy',
        'allkeys-lru',
      ]);
      expect(await redis.config('GET', 'maxmemory-samples')).toEqual(['maxmemory-samples', '5']);
    };
    await check(first);
    await check(track(await first.restart()));
  });

  it('tempDir() makes a fresh directory each time', () => {
    const a = tempDir();
    const b = tempDir();
    expect(a).not.toBe(b);
    expect([existsSync(a), existsSync(b)]).toEqual([true, true]);
  });

  it('a bad argument fails start() with the server output', async () => {
    await expect(RedisServer.start(undefined, { args: ['--no-such-option', 'x'] })).rejects.toThrow(
      /exited before answering PING[\s\S]*no-such-option/i,
    );
  });
});
