import { checkIdentifier } from '../core/arguments.js';
import { invalidArgument } from '../core/errors.js';
import { callOptionsOf, parseCallOptions } from './call-options.js';
import { executeRun, executeWrapped, wrappedSite } from './execute.js';
import type { CallGate } from './gate.js';

/** `brama.run`: validates the arguments (rejecting on bad input), then runs the call. */
export function runCall<T>(
  gate: CallGate,
  identifier: string,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  opts: unknown,
): Promise<T> {
  let call;
  try {
    checkIdentifier(identifier);
    if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn);
    call = callOptionsOf(opts, 'run options');
  } catch (error) {
    return Promise.reject(error);
  }
  return executeRun(gate, identifier, call, fn);
}

/**
 * `brama.wrap`: validates the arguments and the options (throwing on bad input) and returns
 * `fn` protected, `this` and arguments passed through.
 */
export function wrapCall<Args extends unknown[], T>(
  gate: CallGate,
  identifier: string,
  fn: (...args: Args) => unknown,
  opts: unknown,
): (...args: Args) => Promise<T> {
  checkIdentifier(identifier);
  if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn);
  const call = parseCallOptions(opts, 'wrap options');
  const site = wrappedSite(gate, identifier, call, fn);
  return function (this: unknown, ...args: Args): Promise<T> {
    return executeWrapped(site, this, args);
  };
}
