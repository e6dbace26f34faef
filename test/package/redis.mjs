// Loads `brama/redis` by name from ESM and checks it works with the root entry's classes.
import assert from 'node:assert/strict';
import process from 'node:process';
import { Brama, BramaError } from 'brama';
import { createRedisStore, RedisStore } from 'brama/redis';

if (typeof import.meta.resolve === 'function') {
  assert.match(import.meta.resolve('brama/redis'), /\/dist\/redis\/index\.js$/);
}
const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'never-used' });
assert.ok(store instanceof RedisStore);
assert.throws(() => createRedisStore({ url: 'redis://x', keyTtl: -1 }), BramaError);
// Never attached: nothing connected, so the process exits without close().
assert.ok(new Brama() instanceof Brama);
process.stdout.write('ok\n');
