// Imports the BUILT package by its name (self-reference through package.json `exports`) and
// walks one circuit through its life. Exits non-zero on any mismatch; prints `ok` at the end.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import process from 'node:process';
import { Brama, BramaError, CircuitOpenError, isBramaError } from 'brama';
import { ManualClock, expectState, setState } from 'brama/testing';

const here = import.meta.url;
const require = createRequire(here);
assert.match(require.resolve('brama'), /[/\\]dist[/\\]index\.cjs$/);
if (typeof import.meta.resolve === 'function') {
  assert.match(import.meta.resolve('brama'), /\/dist\/index\.js$/);
  assert.match(import.meta.resolve('brama/testing'), /\/dist\/testing\/index\.js$/);
}

assert.equal(typeof Brama, 'function');
assert.equal(typeof BramaError, 'function');
assert.equal(typeof CircuitOpenError, 'function');
assert.equal(typeof isBramaError, 'function');

// register → failures → open → expiry → half-open trial → success → closed
const clock = new ManualClock(1_000);
const brama = new Brama({ clock, maxAttempts: 3, expiry: 5_000 });
assert.equal(brama.register('db').state, 'unknown');
assert.equal(brama.isAvailable('db'), true);
brama.failure('db', { reason: 'timeout' });
brama.failure('db');
assert.equal(brama.status('db').state, 'closed');
assert.equal(brama.isAvailable('db'), true);
brama.failure('db');
assert.equal(brama.status('db').state, 'open');
assert.equal(brama.status('db').openUntil, 6_000);
assert.equal(brama.isAvailable('db'), false);
clock.advance(4_999);
assert.equal(brama.isAvailable('db'), false);
clock.advance(1);
assert.equal(brama.isAvailable('db'), true, 'one half-open trial is admitted');
assert.equal(brama.isAvailable('db'), false, 'only one trial at a time');
assert.equal(brama.status('db').state, 'half_open');
brama.success('db');
assert.equal(brama.status('db').state, 'closed');
assert.equal(brama.status('db').failureCount, 0);
assert.equal(brama.isAvailable('db'), true);
expectState(brama, 'db', 'closed');

// Errors thrown by the package are recognised, by brand and by class.
const notFound = catchError(() => brama.status('ghost'));
assert.ok(isBramaError(notFound, 'BRAMA_NOT_FOUND'));
assert.ok(notFound instanceof BramaError);
assert.equal(notFound.name, 'BramaError');
const badOption = catchError(() => new Brama({ maxAttempst: 3 }));
assert.ok(isBramaError(badOption, 'BRAMA_INVALID_OPTION'));
assert.match(badOption.message, /maxAttempts/);

// The testing entry shares the root entry's classes (the same module files, no duplicate BramaError).
const fromTesting = catchError(() => new ManualClock(Number.NaN));
assert.ok(fromTesting instanceof BramaError);
assert.ok(isBramaError(fromTesting, 'BRAMA_INVALID_ARGUMENT'));
setState(brama, 'db', 'open');
assert.equal(brama.status('db').state, 'open');

const open = new CircuitOpenError('db', null, 'open', 1_000);
assert.ok(open instanceof BramaError);
assert.ok(isBramaError(open, 'BRAMA_CIRCUIT_OPEN'));
assert.equal(open.retryAfterMs, 1_000);

// An error from the CommonJS build (a "duplicate install") is recognised by the ESM guard.
const cjs = require('brama');
assert.notEqual(cjs.BramaError, BramaError);
const fromCjs = catchError(() => new cjs.Brama().status('ghost'));
assert.equal(fromCjs instanceof BramaError, false);
assert.ok(isBramaError(fromCjs, 'BRAMA_NOT_FOUND'));
assert.ok(cjs.isBramaError(notFound, 'BRAMA_NOT_FOUND'));

await brama.close();
const closed = catchError(() => brama.isAvailable('db'));
assert.ok(isBramaError(closed, 'BRAMA_CLOSED'));

process.stdout.write('ok\n');

function catchError(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}
