import type { Metadata } from './core/record.js';
import { CIRCUIT_OPTION_KEYS, type CircuitOptions } from './core/settings.js';
import { unreadable } from './core/arguments.js';
import { BramaError, invalidArgument, invalidOption } from './core/errors.js';

/** The keys each method's options may hold (anything else is a typo: `BRAMA_INVALID_OPTION`). */
export const SCOPE_KEYS: ReadonlySet<string> = new Set(['scope']);
export const FAILURE_KEYS: ReadonlySet<string> = new Set(['scope', 'reason']);
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

/** Options of `failure`. */
export interface FailureOptions extends ScopeOptions {
  /** Why the call failed: a string or an Error (kept as `lastFailureReason`). */
  reason?: string | Error | null | undefined;
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
