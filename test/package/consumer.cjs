// Requires the BUILT package by its name (self-reference through package.json `exports`) and
// walks one circuit through its life. Exits non-zero on any mismatch; prints `ok` at the end.
'use strict';
const assert = require('node:assert/strict');

const { Brama, BramaError, CircuitOpenError, isBramaError } = require('brama');
const { ManualClock, expectState, setState } = require('brama/testing');

assert.match(require.resolve('brama'), /[/\\]dist[/\\]index\.cjs$/);
assert.match(require.resolve('brama/testing'), /[/\\]dist[/\\]testing[/\\]index\.cjs$/);

assert.equal(typeof Brama, 'function');
assert.equal(typeof BramaError, 'function');
assert.equal(typeof CircuitOpenError, 'function');
assert.equal(typeof isBramaError, 'function');

function catchError(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

async function main() {
  // register → failures → open → expiry → half-open trial → success → closed
  const clock = new ManualClock(1_000);
  const brama = new Brama({ clock, maxAttempts: 3, expiry: 5_000 });
  assert.equal(brama.register('db', { scope: 'infra' }).state, 'unknown');
  const scope = { scope: 'infra' };
  brama.failure('db', { ...scope, reason: new Error('timeout') });
  brama.failure('db', scope);
  assert.equal(brama.isAvailable('db', scope), true);
  brama.failure('db', scope);
  assert.equal(brama.status('db', scope).state, 'open');
  assert.equal(brama.isAvailable('db', scope), false);
  clock.advance(5_000);
  assert.equal(brama.isAvailable('db', scope), true, 'one half-open trial is admitted');
  assert.equal(brama.isAvailable('db', scope), false, 'only one trial at a time');
  assert.equal(brama.status('db', scope).state, 'half_open');
  brama.success('db', scope);
  assert.equal(brama.status('db', scope).state, 'closed');
  assert.equal(brama.isAvailable('db', scope), true);
  expectState(brama, 'db', 'closed', scope);

  // Errors thrown by the package are recognised, by brand and by class.
  const notFound = catchError(() => brama.failure('db'));
  assert.ok(isBramaError(notFound, 'BRAMA_NOT_FOUND'));
  assert.ok(notFound instanceof BramaError);
  const dup = catchError(() => brama.register('db', scope));
  assert.ok(isBramaError(dup, 'BRAMA_ALREADY_REGISTERED'));
  const badId = catchError(() => brama.isAvailable(''));
  assert.ok(isBramaError(badId, 'BRAMA_INVALID_ARGUMENT'));

  // The testing entry shares the root entry's classes.
  const fromTesting = catchError(() => clock.advance(-1));
  assert.ok(fromTesting instanceof BramaError);
  assert.ok(isBramaError(fromTesting, 'BRAMA_INVALID_ARGUMENT'));
  setState(brama, 'db', 'open', scope);
  assert.equal(brama.isAvailable('db', scope), false);

  const open = new CircuitOpenError('db', 'infra', 'open', 250);
  assert.ok(open instanceof BramaError);
  assert.ok(isBramaError(open, 'BRAMA_CIRCUIT_OPEN'));
  assert.equal(open.name, 'CircuitOpenError');

  await brama.close();
  assert.ok(
    isBramaError(
      catchError(() => brama.list()),
      'BRAMA_CLOSED',
    ),
  );
  process.stdout.write('ok\n');
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
