// A process that uses brama with default options (so the cleanup timer runs) and never calls
// close() must still exit on its own: the sweep timer is unref()'d and nothing else is pending.
import assert from 'node:assert/strict';
import process from 'node:process';
import { Brama, isBramaError } from 'brama';

const brama = new Brama();
let events = 0;
brama.subscribe(() => {
  events++;
});

const COUNT = 10_000;
for (let i = 0; i < COUNT; i++) brama.register(`service-${i}`, { scope: i % 2 ? 'odd' : null });
for (let i = 0; i < COUNT; i += 7) {
  const scope = i % 2 ? 'odd' : null;
  if (i % 3 === 0) brama.success(`service-${i}`, { scope });
  else for (let n = 0; n < 5; n++) brama.failure(`service-${i}`, { scope, reason: 'down' });
}

assert.equal(brama.list().length, COUNT);
assert.equal(brama.isAvailable('service-7', { scope: 'odd' }), false); // 5 failures: open
assert.equal(brama.isAvailable('service-0'), true);
assert.ok(events > COUNT, `expected events, got ${events}`);
assert.ok(
  isBramaError(
    catchError(() => brama.register('service-0')),
    'BRAMA_ALREADY_REGISTERED',
  ),
);

process.stdout.write('ok\n');
// No close(): the test checks that the process ends by itself.

function catchError(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}
