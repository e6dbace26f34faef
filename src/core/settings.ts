import { invalidOption } from './errors.js';

/** How long successive openings last: always `expiry`, or growing by `backoffFactor`. */
export type ExpiryStrategy = 'fixed' | 'progressive';

/** The effective settings of one circuit, every value resolved. */
export interface CircuitSettings {
  /** Consecutive failures that open the circuit (>= 1). */
  readonly maxAttempts: number;
  /** Milliseconds a circuit stays open (fixed strategy; base for progressive). */
  readonly expiry: number;
  /** `'fixed'` or `'progressive'`. */
  readonly expiryStrategy: ExpiryStrategy;
  /** First open period of the progressive strategy. */
  readonly initialExpiry: number;
  /** Cap of the progressive strategy. */
  readonly maxExpiry: number;
  /** Growth per consecutive opening (progressive). */
  readonly backoffFactor: number;
  /** Trial calls admitted at once while half-open. */
  readonly halfOpenProbes: number;
  /** Milliseconds after which an unanswered trial call frees its slot. */
  readonly probeTimeout: number;
}

/**
 * Circuit settings as a user gives them, globally or per connection. A setting left out follows
 * the level above (connection → global configuration → default).
 */
export interface CircuitOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default 5
   * @example { maxAttempts: 3 }
   */
  maxAttempts?: number | undefined;
  /**
   * Milliseconds a circuit stays open before it half-opens (base for progressive expiry).
   * @default 60_000
   * @example { expiry: 10_000 }
   */
  expiry?: number | undefined;
  /**
   * `'fixed'`: every opening lasts `expiry`. `'progressive'`: the n-th consecutive opening lasts
   * `min(maxExpiry, initialExpiry * backoffFactor ** (n - 1))`.
   * @default 'fixed'
   * @example { expiryStrategy: 'progressive', initialExpiry: 1_000, maxExpiry: 60_000 }
   */
  expiryStrategy?: ExpiryStrategy | undefined;
  /**
   * First open period of the progressive strategy.
   * @default the effective `expiry`
   */
  initialExpiry?: number | undefined;
  /**
   * Longest open period of the progressive strategy.
   * @default 10 x the effective `expiry`
   */
  maxExpiry?: number | undefined;
  /**
   * Growth factor per consecutive opening (progressive strategy), >= 1.
   * @default 2
   */
  backoffFactor?: number | undefined;
  /**
   * Trial calls admitted at once while half-open.
   * @default 1
   */
  halfOpenProbes?: number | undefined;
  /**
   * Milliseconds after which an admitted trial that never reported frees its slot.
   * @default 30_000
   */
  probeTimeout?: number | undefined;
}

/** Defaults of the settings that have a fixed default (the expiry bounds derive from `expiry`). */
export const DEFAULT_SETTINGS = Object.freeze({
  maxAttempts: 5,
  expiry: 60_000,
  expiryStrategy: 'fixed',
  backoffFactor: 2,
  halfOpenProbes: 1,
  probeTimeout: 30_000,
});

/** `maxExpiry` defaults to this many times the effective `expiry`. */
export const MAX_EXPIRY_FACTOR = 10;

/** The keys of {@link CircuitOptions}, in declaration order. */
export const CIRCUIT_OPTION_KEYS: readonly (keyof CircuitSettings)[] = Object.freeze([
  'maxAttempts',
  'expiry',
  'expiryStrategy',
  'initialExpiry',
  'maxExpiry',
  'backoffFactor',
  'halfOpenProbes',
  'probeTimeout',
]);

/** Validates one value: returns the expected-range text when it is wrong, `null` when fine. */
type Rule = (value: unknown) => string | null;

const positiveInteger: Rule = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'an integer >= 1';
const positiveMs: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a finite number of ms > 0';

const CIRCUIT_RULES: Record<keyof CircuitSettings, Rule> = {
  maxAttempts: positiveInteger,
  expiry: positiveMs,
  expiryStrategy: (v) => (v === 'fixed' || v === 'progressive' ? null : "'fixed' or 'progressive'"),
  initialExpiry: positiveMs,
  maxExpiry: positiveMs,
  backoffFactor: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 1 ? null : 'a finite number >= 1',
  halfOpenProbes: positiveInteger,
  probeTimeout: positiveMs,
};

/** Checks one circuit option value, throwing `BRAMA_INVALID_OPTION` when it is out of range. */
export function checkCircuitOption(key: keyof CircuitSettings, value: unknown): void {
  const expected = CIRCUIT_RULES[key](value);
  if (expected !== null) throw invalidOption(key, expected, value);
}

/**
 * Picks and checks the circuit options present in `input` (already known to hold only allowed
 * keys). `undefined` values are kept as "not set". Returns a frozen copy.
 */
export function pickCircuitOptions(input: Readonly<Record<string, unknown>>): CircuitOptions {
  const out: Record<string, unknown> = {};
  for (const key of CIRCUIT_OPTION_KEYS) {
    if (!(key in input)) continue;
    const value = input[key];
    if (value !== undefined) checkCircuitOption(key, value);
    out[key] = value;
  }
  const { initialExpiry, maxExpiry } = out;
  if (
    typeof initialExpiry === 'number' &&
    typeof maxExpiry === 'number' &&
    maxExpiry < initialExpiry
  ) {
    throw invalidOption('maxExpiry', `a number >= initialExpiry (${initialExpiry})`, maxExpiry);
  }
  return sharedIfEmpty(out);
}

/** The options of a connection that has none of its own (shared: most connections). */
export const NO_OPTIONS: CircuitOptions = Object.freeze({});

function sharedIfEmpty(out: Record<string, unknown>): CircuitOptions {
  return Object.keys(out).length === 0 ? NO_OPTIONS : Object.freeze(out);
}

/**
 * Layers per-connection options over global ones: a key present in `patch` replaces the key in
 * `base`; a key present with `undefined` removes it (back to inheriting).
 */
export function mergeCircuitOptions(base: CircuitOptions, patch: CircuitOptions): CircuitOptions {
  const out: Record<string, unknown> = { ...base };
  for (const key of CIRCUIT_OPTION_KEYS) {
    if (!(key in patch)) continue;
    const value = patch[key];
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return sharedIfEmpty(out);
}

/** Resolves the effective settings of a connection: its own options, then global, then defaults. */
export function resolveSettings(global: CircuitOptions, own: CircuitOptions): CircuitSettings {
  const expiry = own.expiry ?? global.expiry ?? DEFAULT_SETTINGS.expiry;
  return Object.freeze({
    maxAttempts: own.maxAttempts ?? global.maxAttempts ?? DEFAULT_SETTINGS.maxAttempts,
    expiry,
    expiryStrategy: own.expiryStrategy ?? global.expiryStrategy ?? DEFAULT_SETTINGS.expiryStrategy,
    initialExpiry: own.initialExpiry ?? global.initialExpiry ?? expiry,
    maxExpiry: own.maxExpiry ?? global.maxExpiry ?? expiry * MAX_EXPIRY_FACTOR,
    backoffFactor: own.backoffFactor ?? global.backoffFactor ?? DEFAULT_SETTINGS.backoffFactor,
    halfOpenProbes: own.halfOpenProbes ?? global.halfOpenProbes ?? DEFAULT_SETTINGS.halfOpenProbes,
    probeTimeout: own.probeTimeout ?? global.probeTimeout ?? DEFAULT_SETTINGS.probeTimeout,
  });
}
