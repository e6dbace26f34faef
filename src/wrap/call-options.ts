import { normalizeScope, readOptions } from '../core/arguments.js';
import type { CircuitOpenError } from '../core/circuit-open-error.js';
import { invalidOption } from '../core/errors.js';
import { CIRCUIT_OPTION_KEYS, pickCircuitOptions } from '../core/settings.js';
import type { ConnectionOptions } from '../method-options.js';

/**
 * How a fulfilled call counts: `'success'`, `'failure'`, a failure with a reason, or `'ignore'`
 * (counted neither way; a half-open trial slot is freed).
 */
export type Classification =
  | 'success'
  | 'failure'
  | {
      failure: unknown;
      /**
       * The result asks for a pause (e.g. HTTP 429 with `Retry-After`, see `parseRetryAfter`):
       * the failure opens the circuit at once for exactly this many ms. `null`: none.
       */
      retryAfterMs?: number | null | undefined;
    }
  | 'ignore';

/** When `fallback` replaces the call's outcome. */
export type FallbackOn = 'refusal' | 'failure' | 'both';

/** Options of `run`, `wrap` and the decorator besides `fallback` and `fallbackOn`. */
export interface CallBaseOptions<R> extends ConnectionOptions {
  /**
   * Decides how a fulfilled result counts.
   * @default () => 'success'
   * @example { classify: (res: Response) => (res.status >= 500 ? { failure: `HTTP ${res.status}` } : 'success') }
   */
  classify?: ((result: NoInfer<Awaited<R>>) => Classification) | undefined;
  /**
   * Decides whether a thrown or rejected error counts as a failure of the dependency
   * (`false`: the error is re-thrown but not counted).
   * @default () => true
   * @example { isFailure: (e) => !(e instanceof ValidationError) }
   */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Aborting it rejects the call with `signal.reason`, counted neither way; an already aborted
   * signal means the function is not called.
   */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds after which the call rejects with `BRAMA_TIMEOUT` (counted as a failure) and
   * the signal given to the function is aborted.
   * @example { timeout: 2_000 }
   */
  timeout?: number | undefined;
}

/**
 * The call's arguments as `fallback` receives them. Not inferred from the fallback (`wrap`'s
 * parameters come from the function alone), element by element: `NoInfer<Args>` as a whole
 * would reject a fallback that declares fewer parameters than the function.
 */
export type FallbackArgs<Args extends unknown[]> = { [K in keyof Args]: NoInfer<Args[K]> };

/** `fallback` for refused calls only (the default). */
export interface RefusalFallback<Args extends unknown[], F> {
  /**
   * When `fallback` runs: `'refusal'` (the circuit refuses the call), `'failure'` (the call
   * failed: it threw or rejected with an error that counts as a failure, or timed out) or
   * `'both'`. A fulfilled result that `classify` counts as a failure is still returned as is.
   * @default 'refusal'
   * @example { fallbackOn: 'both', fallback: () => cachedPrice }
   */
  fallbackOn?: 'refusal' | undefined;
  /**
   * Called instead of throwing `CircuitOpenError` when the circuit refuses the call (with the
   * error, then the call's arguments); its result (or rejection) becomes the call's, so the call
   * resolves to the function's result or the fallback's.
   * @example { fallback: () => cachedValue }
   */
  fallback?:
    ((error: CircuitOpenError, ...args: FallbackArgs<Args>) => F | PromiseLike<F>) | undefined;
}

/** `fallback` for failed calls too (`fallbackOn: 'failure' | 'both'`). */
export interface FailureFallback<Args extends unknown[], F> {
  /** See {@link RefusalFallback.fallbackOn}. */
  fallbackOn: 'failure' | 'both';
  /**
   * Called with the failure's error (or the `CircuitOpenError` of a refusal, with `'both'`) and
   * the call's arguments; its result (or rejection) becomes the call's. The failure is counted
   * first, as without a fallback.
   */
  fallback?: ((error: unknown, ...args: FallbackArgs<Args>) => F | PromiseLike<F>) | undefined;
}

/** Call options whose `fallback` (if any) handles refusals only: its error is a `CircuitOpenError`. */
export type RefusalCallOptions<R, Args extends unknown[] = [], F = never> = CallBaseOptions<R> &
  RefusalFallback<Args, F>;

/** Call options whose `fallback` also handles failures (`fallbackOn: 'failure' | 'both'`). */
export type FailureCallOptions<R, Args extends unknown[] = [], F = never> = CallBaseOptions<R> &
  FailureFallback<Args, F>;

/**
 * Options of `run`, `wrap` and the decorator (besides the connection's registration options).
 * `R` is the function's result, `Args` its parameters, `F` what `fallback` returns.
 */
export type CallOptions<R, Args extends unknown[] = [], F = never> =
  RefusalCallOptions<R, Args, F> | FailureCallOptions<R, Args, F>;

type Fallback = (error: unknown, ...args: unknown[]) => unknown;

/** Validated call options. */
export interface ParsedCall {
  readonly scope: string | null;
  /** Options to register the connection with on first use. */
  readonly registration: ConnectionOptions;
  readonly classify: ((result: unknown) => Classification) | null;
  readonly isFailure: ((error: unknown) => boolean) | null;
  /** The fallback for a refusal, or `null`. */
  readonly onRefusal: Fallback | null;
  /** The fallback for a failure, or `null`. */
  readonly onFailure: Fallback | null;
  readonly signal: AbortSignal | null;
  readonly timeout: number | null;
  /** No signal, no timeout, no fallback for failures: a call on a closed circuit goes direct. */
  readonly direct: boolean;
  /** The values read from the options object, to notice when it was changed since. */
  readonly source: Readonly<Record<string, unknown>> | null;
}

/** The longest delay a Node.js timer honours. */
const MAX_TIMER_MS = 2_147_483_647;

export const CALL_OPTION_KEYS: readonly string[] = Object.freeze([
  'scope',
  'metadata',
  ...CIRCUIT_OPTION_KEYS,
  'classify',
  'isFailure',
  'fallback',
  'fallbackOn',
  'signal',
  'timeout',
]);
const CALL_KEYS: ReadonlySet<string> = new Set(CALL_OPTION_KEYS);
const FALLBACK_ON: ReadonlySet<unknown> = new Set(['refusal', 'failure', 'both']);

/** The options of a call without options (shared, so the common path allocates nothing). */
export const NO_CALL_OPTIONS: ParsedCall = Object.freeze({
  scope: null,
  registration: Object.freeze({}),
  classify: null,
  isFailure: null,
  onRefusal: null,
  onFailure: null,
  signal: null,
  timeout: null,
  direct: true,
  source: null,
});

/**
 * Parsed options by options object. `run` is usually given the same object (a constant) on
 * every call: it is validated once, not per call. A cached entry is used only while the object
 * still holds the values it was parsed from (one read of each option per call, far cheaper than
 * validating): an object changed between calls is parsed again, so `run` always does what the
 * object says at the time of the call. Weak, so an options object is not kept alive by brama.
 */
const parsedByObject = new WeakMap<object, ParsedCall>();

/** Validates the options of `run`/`wrap`/the decorator, reusing an earlier parse of `input`. */
export function callOptionsOf(input: unknown, what: string): ParsedCall {
  if (input === undefined || input === null) return NO_CALL_OPTIONS;
  if (typeof input !== 'object') return parseCallOptions(input, what); // throws
  const cached = parsedByObject.get(input);
  if (cached !== undefined && unchanged(input as Record<string, unknown>, cached)) return cached;
  const parsed = parseCallOptions(input, what);
  parsedByObject.set(input, parsed);
  return parsed;
}

/**
 * Whether `input` still holds the values `parsed` was built from. Written out key by key: named
 * property loads are a few ns for an object of one shape, a loop over key names with `o[key]`
 * several hundred (`WATCHED_KEYS` and a test keep the two lists equal).
 */
function unchanged(o: Record<string, unknown>, parsed: ParsedCall): boolean {
  const s = parsed.source as Record<string, unknown>;
  try {
    return (
      o.timeout === s.timeout &&
      o.signal === s.signal &&
      o.classify === s.classify &&
      o.isFailure === s.isFailure &&
      o.fallback === s.fallback &&
      o.fallbackOn === s.fallbackOn &&
      o.scope === s.scope &&
      o.metadata === s.metadata &&
      o.maxAttempts === s.maxAttempts &&
      o.expiry === s.expiry &&
      o.expiryStrategy === s.expiryStrategy &&
      o.initialExpiry === s.initialExpiry &&
      o.maxExpiry === s.maxExpiry &&
      o.backoffFactor === s.backoffFactor &&
      o.halfOpenProbes === s.halfOpenProbes &&
      o.probeTimeout === s.probeTimeout &&
      o.tripPolicy === s.tripPolicy &&
      o.failureRateThreshold === s.failureRateThreshold &&
      o.slowCallMs === s.slowCallMs &&
      o.slowCallRateThreshold === s.slowCallRateThreshold &&
      o.window === s.window &&
      o.minimumCalls === s.minimumCalls &&
      o.successThreshold === s.successThreshold &&
      o.rampUpMs === s.rampUpMs &&
      o.mode === s.mode
    );
  } catch {
    return false; // a getter that throws now: parse again, which reports it as a BramaError
  }
}

/** The keys {@link unchanged} compares (a test checks they are all the call options). */
export const WATCHED_KEYS: readonly string[] = Object.freeze([
  'timeout',
  'signal',
  'classify',
  'isFailure',
  'fallback',
  'fallbackOn',
  'scope',
  'metadata',
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

/** Validates the options of `run`/`wrap`/the decorator. */
export function parseCallOptions(input: unknown, what: string): ParsedCall {
  if (input === undefined || input === null) return NO_CALL_OPTIONS;
  const o = readOptions(input, what, CALL_KEYS);
  const source: Record<string, unknown> = {};
  for (const key of CALL_OPTION_KEYS) source[key] = o[key];
  const scope = normalizeScope(o.scope);
  pickCircuitOptions(o); // validates the registration options now, whether or not they are used
  const registration: Record<string, unknown> = { scope };
  for (const key of ['metadata', ...CIRCUIT_OPTION_KEYS])
    if (o[key] !== undefined) registration[key] = o[key];
  for (const key of ['classify', 'isFailure', 'fallback'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function')
      throw invalidOption(key, 'a function', o[key]);
  }
  const fallbackOn = o.fallbackOn ?? 'refusal';
  if (!FALLBACK_ON.has(fallbackOn)) {
    throw invalidOption('fallbackOn', "'refusal', 'failure' or 'both'", fallbackOn);
  }
  if (o.signal !== undefined && !isAbortSignal(o.signal)) {
    throw invalidOption('signal', 'an AbortSignal', o.signal);
  }
  const timeout = o.timeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || !(timeout > 0 && timeout <= MAX_TIMER_MS))
  ) {
    // Node fires a timer above 2^31 - 1 ms after 1 ms: such a timeout would fail every call.
    throw invalidOption('timeout', `a number of ms > 0 and <= ${MAX_TIMER_MS}`, timeout);
  }
  const fallback = (o.fallback as Fallback | undefined) ?? null;
  return Object.freeze({
    scope,
    registration: Object.freeze(registration),
    classify: (o.classify as ParsedCall['classify']) ?? null,
    isFailure: (o.isFailure as ParsedCall['isFailure']) ?? null,
    onRefusal: fallbackOn === 'failure' ? null : fallback,
    onFailure: fallbackOn === 'refusal' ? null : fallback,
    signal: (o.signal as AbortSignal | undefined) ?? null,
    timeout: timeout ?? null,
    direct:
      o.signal === undefined &&
      timeout === undefined &&
      (fallbackOn === 'refusal' || fallback === null),
    source: Object.freeze(source),
  });
}

function isAbortSignal(value: unknown): boolean {
  try {
    return value instanceof AbortSignal;
  } catch {
    return false; // a revoked Proxy
  }
}
