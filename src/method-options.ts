import type { Metadata } from './core/record.js';
import { CIRCUIT_OPTION_KEYS, type CircuitOptions } from './core/settings.js';
import { unreadable } from './core/arguments.js';
import { BramaError, invalidArgument, invalidOption } from './core/errors.js';
import { NO_DETAILS, type OutcomeDetails } from './stores/store.js';

/** The keys each method's options may hold (anything else is a typo: `BRAMA_INVALID_OPTION`). */
export const SCOPE_KEYS: ReadonlySet<string> = new Set(['scope']);
export const SUCCESS_KEYS: ReadonlySet<string> = new Set(['scope', 'durationMs']);
export const FAILURE_KEYS: ReadonlySet<string> = new Set([
  'scope',
  'reason',
  'durationMs',
  'retryAfterMs',
]);
export const ACTION_KEYS: ReadonlySet<string> = new Set(['scope', 'reason']);
export const OPEN_KEYS: ReadonlySet<string> = new Set(['scope', 'reason', 'expiry']);
export const CONNECTION_KEYS: ReadonlySet<string> = new Set([
  'scope',
  'metadata',
  ...CIRCUIT_OPTION_KEYS,
]);

/** Options that only name the connection. */
export interface ScopeOptions {
  /** The connection's scope; absent or `null` for none. */
  scope?: string | null | undefined;
}

/** Options of `register` and of the per-connection `configure`. */
export interface ConnectionOptions extends CircuitOptions, ScopeOptions {
  /** Free-form data kept with the connection (copied and frozen). */
  metadata?: Readonly<Record<string, unknown>> | undefined;
}

/** Options of `success`. */
export interface SuccessOptions extends ScopeOptions {
  /**
   * How long the call took (ms, finite, >= 0): a call at least `slowCallMs` long counts as slow
   * for the `'rate'` policy. Without it, the call is not slow.
   */
  durationMs?: number | undefined;
}

/** Options of `failure`. */
export interface FailureOptions extends SuccessOptions {
  /** Why the call failed: a string or an Error (kept as `lastFailureReason`). */
  reason?: string | Error | null | undefined;
  /**
   * The dependency asked for a pause (e.g. HTTP 429/503 with `Retry-After`; see
   * `parseRetryAfter`): the failure opens the circuit at once for exactly this many ms, whatever
   * the trip policy. `null` or absent: none.
   * @example brama.failure('api', { reason: 'HTTP 429', retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) })
   */
  retryAfterMs?: number | null | undefined;
}

/** Options of `closeCircuit` and `resetCircuit`. */
export interface ActionOptions extends ScopeOptions {
  /** Why the operator acted; carried by the events. */
  reason?: string | Error | null | undefined;
}

/** Options of `openCircuit`. */
export interface OpenOptions extends ActionOptions {
  /** Milliseconds this opening lasts (this opening only); default: the strategy's period. */
  expiry?: number | undefined;
}

/** Filter of `list`. */
export interface ListFilter {
  /** Only connections in this scope (`null`: only connections without a scope). */
  scope?: string | null | undefined;
}

export function closedError(): BramaError {
  return new BramaError('BRAMA_CLOSED', 'This Brama instance is closed');
}

/** The metadata of a connection registered without any (shared: it is frozen). */
export const NO_METADATA: Metadata = Object.freeze({});

export function readMetadata(value: unknown): Metadata {
  if (value === undefined) return NO_METADATA;
  let isArray = true;
  try {
    isArray = Array.isArray(value);
  } catch {
    // a revoked Proxy: rejected below
  }
  if (typeof value !== 'object' || value === null || isArray) {
    throw invalidOption('metadata', 'a plain object', value);
  }
  try {
    return Object.freeze({ ...(value as Record<string, unknown>) });
  } catch (error) {
    throw unreadable('option "metadata"', error);
  }
}

export function readReason(value: unknown): string | Error | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  let isError = false;
  try {
    isError = value instanceof Error;
  } catch {
    // a revoked Proxy: rejected below
  }
  if (isError) return value as Error;
  throw invalidArgument('reason', 'a string, an Error, null or undefined', value);
}

/**
 * The duration and retry-after of a report's options (validated; `NO_DETAILS` when neither is
 * given). Reads the options object again: a getter that throws now is a `BramaError` too.
 */
export function readDetails(opts: SuccessOptions | FailureOptions | undefined): OutcomeDetails {
  if (opts === undefined || opts === null) return NO_DETAILS;
  let durationMs: unknown;
  let retryAfterMs: unknown;
  try {
    durationMs = opts.durationMs;
    retryAfterMs = (opts as FailureOptions).retryAfterMs;
  } catch (error) {
    throw unreadable('report options', error);
  }
  if (durationMs === undefined && (retryAfterMs === undefined || retryAfterMs === null))
    return NO_DETAILS;
  if (durationMs !== undefined && !isMs(durationMs))
    throw invalidOption('durationMs', 'a finite number of ms >= 0', durationMs);
  if (retryAfterMs !== undefined && retryAfterMs !== null && !isMs(retryAfterMs))
    throw invalidOption('retryAfterMs', 'null or a finite number of ms >= 0', retryAfterMs);
  return {
    durationMs: durationMs as number | undefined,
    retryAfterMs: (retryAfterMs ?? null) as number | null,
  };
}

function isMs(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
