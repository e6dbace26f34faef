/**
 * `isBramaError`: the one guard for brama's errors, by brand and code rather than `instanceof`.
 * Its own file so that `errors.ts` need not know `CircuitOpenError`, which extends `BramaError`.
 */
import type { CircuitOpenError } from './circuit-open-error.js';
import { branded, type BramaError, type BramaErrorCode } from './errors.js';

/**
 * The error {@link isBramaError} narrows to for a code: a `CircuitOpenError` for
 * `BRAMA_CIRCUIT_OPEN`, otherwise a `BramaError` whose `code` is that code.
 */
export type BramaErrorOf<C extends BramaErrorCode> = C extends 'BRAMA_CIRCUIT_OPEN'
  ? CircuitOpenError
  : BramaError & { readonly code: C };

/**
 * Whether `value` is a brama error (optionally with the given `code`). Checks the code and a
 * global brand rather than `instanceof`, so it works across duplicate installs of brama and
 * between its CommonJS and ES module builds.
 * @example
 * if (isBramaError(error, 'BRAMA_CIRCUIT_OPEN')) retryIn(error.retryAfterMs);
 */
export function isBramaError(value: unknown): value is BramaError;
/** With a code: narrows to that code's error (`CircuitOpenError` for `BRAMA_CIRCUIT_OPEN`). */
export function isBramaError<C extends BramaErrorCode>(
  value: unknown,
  code: C,
): value is BramaErrorOf<C>;
/** With a code that may be absent. */
export function isBramaError(value: unknown, code?: BramaErrorCode): value is BramaError;
export function isBramaError(value: unknown, code?: BramaErrorCode): value is BramaError {
  return branded(value) && (code === undefined || value.code === code);
}
