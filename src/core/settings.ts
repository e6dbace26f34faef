import { invalidOption } from './errors.js';

/** How long successive openings last: always `expiry`, or growing by `backoffFactor`. */
export type ExpiryStrategy = 'fixed' | 'progressive';

/**
 * What opens a closed circuit: `maxAttempts` failures in a row (`'consecutive'`), or the share
 * of failures or of slow calls among the recent outcomes of a window (`'rate'`).
 */
export type TripPolicy = 'consecutive' | 'rate';

/** `'enforce'` refuses calls while open; `'shadow'` computes everything and refuses nothing. */
export type CircuitMode = 'enforce' | 'shadow';

/** The outcomes a `'rate'` policy looks at: the last N (`{ calls }`), or those of the last T ms. */
export type OutcomeWindowSpec = { readonly calls: number } | { readonly ms: number };

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
  /** What opens a closed circuit. */
  readonly tripPolicy: TripPolicy;
  /** `'rate'`: opens when the share of failures in the window is at or above this. */
  readonly failureRateThreshold: number;
  /** `'rate'`: a call that took at least this many ms is slow (`null`: none is). */
  readonly slowCallMs: number | null;
  /** `'rate'`: opens when the share of slow calls in the window is at or above this. */
  readonly slowCallRateThreshold: number;
  /** `'rate'`: the outcomes looked at. */
  readonly window: OutcomeWindowSpec;
  /** `'rate'`: no trip while the window holds fewer outcomes than this. */
  readonly minimumCalls: number;
  /** Successful trials in a row that close a half-open circuit. */
  readonly successThreshold: number;
  /** After trials close a half-open circuit, calls are let back in gradually over this many ms. */
  readonly rampUpMs: number;
  /** `'enforce'` or `'shadow'`. */
  readonly mode: CircuitMode;
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
  /**
   * What opens a closed circuit: `'consecutive'` (`maxAttempts` failures in a row) or `'rate'`
   * (the share of failures, or of slow calls, among the outcomes of `window`, once it holds at
   * least `minimumCalls`).
   * @default 'consecutive'
   * @example { tripPolicy: 'rate', failureRateThreshold: 0.5, window: { calls: 100 } }
   */
  tripPolicy?: TripPolicy | undefined;
  /**
   * `'rate'`: opens when the share of failures in the window is at or above this (0 < x <= 1).
   * @default 0.5
   */
  failureRateThreshold?: number | undefined;
  /**
   * `'rate'`: a call that took at least this many ms counts as slow, whether it succeeded or
   * failed; an outcome reported without a duration is not slow. `null`: no call is slow.
   * @default null
   * @example { slowCallMs: 2_000, slowCallRateThreshold: 0.8 }
   */
  slowCallMs?: number | null | undefined;
  /**
   * `'rate'`: opens when the share of slow calls in the window is at or above this (0 < x <= 1).
   * @default 1
   */
  slowCallRateThreshold?: number | undefined;
  /**
   * `'rate'`: the last N outcomes (`{ calls: N }`, 1 to 10,000) or those of the last T ms
   * (`{ ms: T }`, in buckets of T/10: an outcome leaves between 0.9 T and T after it was
   * recorded).
   * @default { calls: 100 }
   * @example { window: { ms: 60_000 } }
   */
  window?: OutcomeWindowSpec | undefined;
  /**
   * `'rate'`: no trip while the window holds fewer outcomes than this (at most a count window's
   * size).
   * @default 10
   */
  minimumCalls?: number | undefined;
  /**
   * Successful trials in a row that close a half-open circuit (any failing trial re-opens it).
   * @default 1
   */
  successThreshold?: number | undefined;
  /**
   * After successful trials close a half-open circuit, the share of calls admitted rises
   * linearly from 0 to 1 over this many ms (`0`: all at once); the others are refused as by an
   * open circuit. `closeCircuit` and `resetCircuit` end it.
   * @default 0
   * @example { rampUpMs: 30_000 }
   */
  rampUpMs?: number | undefined;
  /**
   * `'shadow'`: states, events and trial slots as in `'enforce'`, but nothing is refused
   * (`isAvailable` answers `true`, wrapped calls run): to tune thresholds in production.
   * @default 'enforce'
   */
  mode?: CircuitMode | undefined;
}

/** Defaults of the settings that have a fixed default (the expiry bounds derive from `expiry`). */
export const DEFAULT_SETTINGS = Object.freeze({
  maxAttempts: 5,
  expiry: 60_000,
  expiryStrategy: 'fixed',
  backoffFactor: 2,
  halfOpenProbes: 1,
  probeTimeout: 30_000,
  tripPolicy: 'consecutive',
  failureRateThreshold: 0.5,
  slowCallMs: null,
  slowCallRateThreshold: 1,
  window: Object.freeze({ calls: 100 }),
  minimumCalls: 10,
  successThreshold: 1,
  rampUpMs: 0,
  mode: 'enforce',
} as const);

/** The largest count window: bounds memory per connection (and in Redis). */
export const MAX_WINDOW_CALLS = 10_000;
/** The longest time window (ms): a day. */
export const MAX_WINDOW_MS = 86_400_000;

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
  'tripPolicy',
  'failureRateThreshold',
  'slowCallMs',
  'slowCallRateThreshold',
  'window',
  'minimumCalls',
  'successThreshold',
  'rampUpMs',
  'mode',
]);

/** Validates one value: returns the expected-range text when it is wrong, `null` when fine. */
type Rule = (value: unknown) => string | null;

const positiveInteger: Rule = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'an integer >= 1';
const positiveMs: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a finite number of ms > 0';

const share: Rule = (v) =>
  typeof v === 'number' && v > 0 && v <= 1 ? null : 'a number > 0 and <= 1';
const nonNegativeMs: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : 'a finite number of ms >= 0';

const WINDOW_EXPECTED = `{ calls: N } (an integer from 1 to ${MAX_WINDOW_CALLS}) or { ms: T } (a number of ms from 10 to ${MAX_WINDOW_MS})`;

/** Reads a window option safely (a getter or Proxy trap that throws counts as a wrong value). */
function windowProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return WINDOW_EXPECTED;
  try {
    const keys = Object.keys(v);
    if (keys.length !== 1) return WINDOW_EXPECTED;
    const { calls, ms } = v as { calls?: unknown; ms?: unknown };
    if (keys[0] === 'calls')
      return typeof calls === 'number' &&
        Number.isSafeInteger(calls) &&
        calls >= 1 &&
        calls <= MAX_WINDOW_CALLS
        ? null
        : WINDOW_EXPECTED;
    if (keys[0] === 'ms')
      return typeof ms === 'number' && Number.isFinite(ms) && ms >= 10 && ms <= MAX_WINDOW_MS
        ? null
        : WINDOW_EXPECTED;
    return WINDOW_EXPECTED;
  } catch {
    return WINDOW_EXPECTED;
  }
}

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
  tripPolicy: (v) => (v === 'consecutive' || v === 'rate' ? null : "'consecutive' or 'rate'"),
  failureRateThreshold: share,
  slowCallMs: (v) =>
    v === null ? null : nonNegativeMs(v) === null ? null : 'null or a finite number of ms >= 0',
  slowCallRateThreshold: share,
  window: windowProblem,
  minimumCalls: positiveInteger,
  successThreshold: positiveInteger,
  rampUpMs: nonNegativeMs,
  mode: (v) => (v === 'enforce' || v === 'shadow' ? null : "'enforce' or 'shadow'"),
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
    let value = input[key];
    if (value !== undefined) checkCircuitOption(key, value);
    // A window is kept as a frozen copy: the caller's object may change later.
    if (key === 'window' && value !== undefined) value = copyWindow(value as OutcomeWindowSpec);
    out[key] = value;
  }
  const { minimumCalls, window } = out as { minimumCalls?: unknown; window?: OutcomeWindowSpec };
  if (typeof minimumCalls === 'number' && window !== undefined && 'calls' in window) {
    if (minimumCalls > window.calls)
      throw invalidOption(
        'minimumCalls',
        `an integer from 1 to the window's ${window.calls} calls`,
        minimumCalls,
      );
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

function copyWindow(w: OutcomeWindowSpec): OutcomeWindowSpec {
  return Object.freeze('calls' in w ? { calls: w.calls } : { ms: w.ms });
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
  const window = own.window ?? global.window ?? DEFAULT_SETTINGS.window;
  const minimumCalls = own.minimumCalls ?? global.minimumCalls ?? DEFAULT_SETTINGS.minimumCalls;
  return Object.freeze({
    maxAttempts: own.maxAttempts ?? global.maxAttempts ?? DEFAULT_SETTINGS.maxAttempts,
    expiry,
    expiryStrategy: own.expiryStrategy ?? global.expiryStrategy ?? DEFAULT_SETTINGS.expiryStrategy,
    initialExpiry: own.initialExpiry ?? global.initialExpiry ?? expiry,
    maxExpiry: own.maxExpiry ?? global.maxExpiry ?? expiry * MAX_EXPIRY_FACTOR,
    backoffFactor: own.backoffFactor ?? global.backoffFactor ?? DEFAULT_SETTINGS.backoffFactor,
    halfOpenProbes: own.halfOpenProbes ?? global.halfOpenProbes ?? DEFAULT_SETTINGS.halfOpenProbes,
    probeTimeout: own.probeTimeout ?? global.probeTimeout ?? DEFAULT_SETTINGS.probeTimeout,
    tripPolicy: own.tripPolicy ?? global.tripPolicy ?? DEFAULT_SETTINGS.tripPolicy,
    failureRateThreshold:
      own.failureRateThreshold ??
      global.failureRateThreshold ??
      DEFAULT_SETTINGS.failureRateThreshold,
    // `null` is a value here (no slow calls): only `undefined` inherits.
    slowCallMs:
      own.slowCallMs !== undefined
        ? own.slowCallMs
        : global.slowCallMs !== undefined
          ? global.slowCallMs
          : DEFAULT_SETTINGS.slowCallMs,
    slowCallRateThreshold:
      own.slowCallRateThreshold ??
      global.slowCallRateThreshold ??
      DEFAULT_SETTINGS.slowCallRateThreshold,
    window,
    // From different levels, a minimumCalls above a count window is capped by it.
    minimumCalls: 'calls' in window ? Math.min(minimumCalls, window.calls) : minimumCalls,
    successThreshold:
      own.successThreshold ?? global.successThreshold ?? DEFAULT_SETTINGS.successThreshold,
    rampUpMs: own.rampUpMs ?? global.rampUpMs ?? DEFAULT_SETTINGS.rampUpMs,
    mode: own.mode ?? global.mode ?? DEFAULT_SETTINGS.mode,
  });
}
