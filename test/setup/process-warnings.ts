/**
 * Vitest setup: expected process warnings stay out of the test output.
 *
 * A test that expects a warning listens for it (`process.once('warning', ...)`) and asserts it,
 * so a warning emitted while a listener other than Node's own printer is registered belongs to
 * that test and is not printed. Any other warning is printed as Node prints it: an unexpected
 * warning still shows.
 */
import process from 'node:process';

const INSTALLED = Symbol.for('brama.test.process-warnings');
const state = globalThis as { [INSTALLED]?: true };

if (!state[INSTALLED]) {
  state[INSTALLED] = true;
  const printers = process.listeners('warning');
  for (const print of printers) process.removeListener('warning', print);
  const dispatch = (warning: Error): void => {
    const expected = process
      .listeners('warning')
      .some((listener) => listener !== dispatch && !printers.includes(listener));
    if (expected) return;
    for (const print of printers) print(warning);
  };
  process.on('warning', dispatch);
}
