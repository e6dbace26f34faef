/**
 * How the peers are set up: each the way its documentation shows it. One place, so every
 * scenario compares the same configurations.
 */
import CircuitBreaker from 'opossum';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';

/** The options of opossum's README example (its `timeout` arms a timer for every call). */
export const OPOSSUM_OPTIONS: CircuitBreaker.Options = Object.freeze({
  timeout: 3_000,
  errorThresholdPercentage: 50,
  resetTimeout: 30_000,
});

/** opossum as its README shows it: `new CircuitBreaker(fn, options)`, called with `fire()`. */
export function opossum<R>(
  action: () => Promise<R>,
  overrides: CircuitBreaker.Options = {},
): CircuitBreaker<[], R> {
  return new CircuitBreaker<[], R>(action, { ...OPOSSUM_OPTIONS, ...overrides });
}

/**
 * cockatiel as its README shows it: `circuitBreaker(handleAll, { halfOpenAfter, breaker: new
 * ConsecutiveBreaker(5) })`, called with `execute(fn)`.
 */
export function cockatiel(threshold = 5, halfOpenAfter = 10_000): CircuitBreakerPolicy {
  return circuitBreaker(handleAll, {
    halfOpenAfter,
    breaker: new ConsecutiveBreaker(threshold),
  });
}

/** A threshold that is never reached: keeps a circuit closed however many failures it sees. */
export const NEVER_TRIPS = Number.MAX_SAFE_INTEGER;

/** An open period longer than any run, so an opened circuit stays open while measured. */
export const ONE_HOUR = 3_600_000;
