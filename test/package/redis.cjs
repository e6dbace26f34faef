// Loads the BUILT package by name from CommonJS: the root entry must not load ioredis (an
// optional peer), `brama/redis` must. With REDIS_URL set, runs one connection through Redis and
// then must exit by itself after close(). Prints `ok` at the end.
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const loadedIoredis = () => Object.keys(require.cache).some((k) => /[/\\]ioredis[/\\]/.test(k));

const { Brama, isBramaError } = require('brama');
assert.equal(loadedIoredis(), false, 'the root entry loaded ioredis');
const { createRedisStore, RedisStore } = require('brama/redis');
assert.equal(loadedIoredis(), true);
assert.match(require.resolve('brama/redis'), /[/\\]dist[/\\]redis[/\\]index\.cjs$/);
assert.equal(typeof RedisStore, 'function');
assert.throws(
  () => createRedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'a{b}' }),
  (e) => isBramaError(e, 'BRAMA_INVALID_OPTION') && e.message.includes('"prefix"'),
);

async function main() {
  const url = process.env.REDIS_URL;
  if (url) {
    const store = createRedisStore({ url, prefix: `brama-test-${randomUUID()}` });
    const brama = new Brama({ store, maxAttempts: 1 });
    await store.ready();
    assert.equal(store.degraded, false);
    brama.register('db');
    brama.failure('db');
    await store.flush();
    assert.equal(brama.status('db').state, 'open');
    brama.unregister('db'); // deletes its keys
    await store.flush();
    await brama.close();
  }
  console.log('ok');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
