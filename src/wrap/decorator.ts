import type { Brama } from '../brama.js';
import { checkIdentifier } from '../core/arguments.js';
import { invalidArgument } from '../core/errors.js';
import type { CircuitOpenError } from '../core/circuit-open-error.js';
import { isBrama } from '../is-brama.js';
import type { CallOptions, Classification } from './call-options.js';

/** Options of {@link circuitBreaker}: the connection and the options of `brama.wrap`. */
export interface CircuitBreakerOptions<R = unknown> extends Omit<
  CallOptions<R, unknown[]>,
  'classify' | 'fallback'
> {
  /** The connection protecting the method. */
  identifier: string;
  /** Decides how the method's fulfilled value counts (see `CallOptions.classify`). */
  classify?: ((result: R) => Classification) | undefined;
  /** Called with the refusal and the method's arguments instead of rejecting. */
  fallback?: ((error: CircuitOpenError, ...args: never[]) => unknown) | undefined;
}

/**
 * A method decorator usable in both decorator dialects. Only methods that return a promise can
 * be decorated: the protected method always returns one (a refusal is a rejection).
 */
export interface MethodBreaker {
  /** TC39 standard decorators (TypeScript 5 without flags). */
  <This, Args extends unknown[], R extends PromiseLike<unknown>>(
    method: (this: This, ...args: Args) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
  ): (this: This, ...args: Args) => R;
  /** Legacy `experimentalDecorators`. */
  <M extends (...args: never[]) => PromiseLike<unknown>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M>;
}

/**
 * Protects a class method with a connection's circuit, exactly as `brama.wrap` would: the method
 * then returns a promise. Works with TC39 decorators and with `experimentalDecorators`.
 * @example
 * class Payments {
 *   @circuitBreaker(brama, { identifier: 'payments-api', timeout: 2_000 })
 *   async charge(amount: number) { ... }
 * }
 */
export function circuitBreaker<R = unknown>(
  brama: Brama,
  opts: CircuitBreakerOptions<R>,
): MethodBreaker {
  // A brand check, not `instanceof`: a registry from the other build (CommonJS or ESM) works too.
  if (!isBrama(brama)) throw invalidArgument('brama', 'a Brama instance', brama);
  if (typeof opts !== 'object' || opts === null) {
    throw invalidArgument('circuitBreaker options', 'an object with an identifier', opts);
  }
  const { identifier, ...rest } = opts;
  checkIdentifier(identifier);
  // Validate the options now (decoration time) rather than at the first call.
  brama.wrap(identifier, noop, rest as CallOptions<unknown, unknown[]>);

  const protect = (method: unknown): ((this: unknown, ...args: unknown[]) => unknown) => {
    if (typeof method !== 'function') throw invalidArgument('decorated member', 'a method', method);
    return brama.wrap(
      identifier,
      method as (...args: unknown[]) => unknown,
      rest as CallOptions<unknown, unknown[]>,
    );
  };

  return ((target: unknown, context: unknown, descriptor?: PropertyDescriptor): unknown => {
    if (isMethodContext(context)) return protect(target);
    if (descriptor !== undefined && typeof descriptor === 'object') {
      return { ...descriptor, value: protect(descriptor.value) };
    }
    throw invalidArgument('decorator target', 'a class method', context);
  }) as MethodBreaker;
}

function noop(): void {}

function isMethodContext(value: unknown): value is ClassMethodDecoratorContext {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'method'
  );
}
