import type { Brama } from './brama.js';
import { INTERNALS } from './internals.js';

/**
 * Whether `value` is a `Brama` registry, from this copy of brama or from another one: the
 * CommonJS and ES module builds loaded side by side in one process, or a duplicate install.
 * `instanceof` would only recognise this copy's class; the registered symbol of the testing
 * hook is the same in every copy.
 */
export function isBrama(value: unknown): value is Brama {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [INTERNALS]?: unknown })[INTERNALS] === 'function'
  );
}
