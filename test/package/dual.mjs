// Loads the BUILT package by name through `import` and through `require` in one process (an ES
// module app with a CommonJS dependency does that) and checks that the two builds work together:
// classes keep their names, every entry of one build shares its classes, and a registry made by
// either build is accepted by the other's testing kit and decorator. Prints `ok` at the end.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import process from 'node:process';
import { inspect } from 'node:util';
import * as esmRoot from 'brama';
import * as esmRedis from 'brama/redis';
import * as esmTesting from 'brama/testing';

const require = createRequire(import.meta.url);
const builds = {
  esm: { root: esmRoot, testing: esmTesting, redis: esmRedis },
  cjs: { root: require('brama'), testing: require('brama/testing'), redis: require('brama/redis') },
};

function catchError(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

// Two builds, two sets of classes: what follows is about making them work together.
assert.notEqual(builds.esm.root.Brama, builds.cjs.root.Brama);

for (const [format, { root, testing, redis }] of Object.entries(builds)) {
  // Real class names, as the source declares them.
  const classes = {
    Brama: root.Brama,
    BramaError: root.BramaError,
    CircuitOpenError: root.CircuitOpenError,
    MemoryStore: root.MemoryStore,
    ManualClock: testing.ManualClock,
    StateAssertionError: testing.StateAssertionError,
    RedisStore: redis.RedisStore,
  };
  for (const [name, value] of Object.entries(classes)) {
    assert.equal(value.name, name, `${format}: ${name}.name`);
  }
  const brama = new root.Brama({ cleanupInterval: 0 });
  assert.match(inspect(brama), /^Brama \{/, `${format}: console.log(brama)`);
  const badClock = catchError(() => new root.Brama({ clock: brama }));
  assert.match(badClock.message, /received \[object Brama\]/, `${format}: ${badClock.message}`);
  assert.equal(new root.CircuitOpenError('a', null, 'open', 1).name, 'CircuitOpenError');

  // One class per build, whichever entry it comes from: errors thrown by brama/testing and
  // brama/redis are instances of the root entry's BramaError.
  const fromTesting = catchError(() => testing.setState({}, 'a', 'open'));
  assert.ok(fromTesting instanceof root.BramaError, `${format}: testing kit's BramaError`);
  assert.match(fromTesting.message, /expected a Brama instance/);
  const fromRedis = catchError(() => redis.createRedisStore({ url: 'redis://x', keyTtl: -1 }));
  assert.ok(fromRedis instanceof root.BramaError, `${format}: brama/redis's BramaError`);
}

// A registry of one build, driven by the other build's testing kit and decorator.
for (const [maker, helper] of [
  ['cjs', 'esm'],
  ['esm', 'cjs'],
]) {
  const { root } = builds[maker];
  const { testing, root: other } = builds[helper];
  const where = `${maker} registry, ${helper} helpers`;

  const clock = new testing.ManualClock(0);
  const brama = new root.Brama({ clock, maxAttempts: 2, expiry: 1_000, cleanupInterval: 0 });
  brama.register('api');
  const recorder = testing.recordEvents(brama, { events: ['state_change'] });
  testing.addFailures(brama, 'api', 2, { reason: 'down' });
  testing.expectState(brama, 'api', 'open');
  testing.setState(brama, 'api', 'half_open');
  testing.simulateRecovery(brama, 'api');
  testing.expectState(brama, 'api', 'closed');
  assert.deepEqual(
    recorder.events.map((e) => `${e.data.from}->${e.data.to}`),
    ['unknown->closed', 'closed->open', 'open->half_open', 'half_open->closed'],
    where,
  );
  const mismatch = catchError(() => testing.expectState(brama, 'api', 'open'));
  assert.ok(mismatch instanceof testing.StateAssertionError, where);

  // What TypeScript emits for `@circuitBreaker(brama, ...)` on a method (TC39 decorators).
  class Payments {
    async charge(amount) {
      if (amount < 0) throw new Error('declined');
      return `charged ${amount}`;
    }
  }
  const decorate = other.circuitBreaker(brama, { identifier: 'payments', maxAttempts: 1 });
  Payments.prototype.charge = decorate(Payments.prototype.charge, {
    kind: 'method',
    name: 'charge',
    static: false,
    private: false,
    addInitializer() {},
  });
  const payments = new Payments();
  assert.equal(await payments.charge(5), 'charged 5', where);
  await assert.rejects(payments.charge(-1), /declined/);
  const refused = await payments.charge(5).catch((error) => error);
  assert.ok(other.isBramaError(refused, 'BRAMA_CIRCUIT_OPEN'), where);
  assert.ok(refused instanceof root.CircuitOpenError, where);
  assert.equal(refused.name, 'CircuitOpenError');
  assert.equal(brama.status('payments').state, 'open');

  // A store and a clock of the other build are accepted too (checked by shape).
  const withStore = new root.Brama({ store: new other.MemoryStore(), cleanupInterval: 0 });
  withStore.register('db');
  assert.equal(withStore.isAvailable('db'), true, where);
  await withStore.close();
  await brama.close();
}

process.stdout.write('ok\n');
