import { normalizeScope, readOptions } from '../core/arguments.js';
import type { CircuitOpenError } from '../core/circuit-open-error.js';
import { invalidOption } from '../core/errors.js';
import { CIRCUIT_OPTION_KEYS, pickCircuitOptions } from '../core/settings.js';
import type { ConnectionOptions } from '../brama.js';

/**
 * How a fulfilled call counts: `'success'`, `'failure'`, a failure with a reason, or `'ignore'`
 * (counted neither way; a half-open trial slot is freed).
 */
export type Classification = 'success' | 'failure' | { failure: unknown } | 'ignore';

/** Options of `run`, `wrap` and the decorator (besides the connection's registration options). */
export interface CallOptions<R, Args extends unknown[] = []> extends ConnectionOptions {
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
   * Called instead of throwing `CircuitOpenError` when the circuit refuses the call; its result
   * (or rejection) becomes the call's.
   * @example { fallback: () => cachedValue }
   */
  fallback?:
    | NoInfer<(error: CircuitOpenError, ...args: Args) => R | Awaited<R> | PromiseLike<Awaited<R>>>
    | undefined;
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

/** Validated call options. */
export interface ParsedCall {
  readonly scope: string | null;
  /** Options to register the connection with on first use. */
  readonly registration: ConnectionOptions;
  readonly classify: ((result: unknown) => Classification) | null;
  readonly isFailure: ((error: unknown) => boolean) | null;
  readonly fallback: ((error: CircuitOpenError, ...args: unknown[]) => unknown) | null;
  readonly signal: AbortSignal | null;
  readonly timeout: number | null;
}

/** The longest delay a Node.js timer honours. */
const MAX_TIMER_MS = 2_147_483_647;

const CALL_KEYS: ReadonlySet<string> = new Set([
  'scope',
  'metadata',
  ...CIRCUIT_OPTION_KEYS,
  'classify',
  'isFailure',
  'fallback',
  'signal',
  'timeout',
]);

/** The options of a call without options (shared, so the common path allocates nothing). */
export const NO_CALL_OPTIONS: ParsedCall = Object.freeze({
  scope: null,
  registration: Object.freeze({}),
  classify: null,
  isFailure: null,
  fallback: null,
  signal: null,
  timeout: null,
});

/** Validates the options of `run`/`wrap`/the decorator. */
export function parseCallOptions(input: unknown, what: string): ParsedCall {
  if (input === undefined) return NO_CALL_OPTIONS;
  const o = readOptions(input, what, CALL_KEYS);
  const scope = normalizeScope(o.scope);
  pickCircuitOptions(o); // validates the registration options now, whether or not they are used
  const registration: Record<string, unknown> = { scope };
  for (const key of ['metadata', ...CIRCUIT_OPTION_KEYS])
    if (o[key] !== undefined) registration[key] = o[key];
  for (const key of ['classify', 'isFailure', 'fallback'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function')
      throw invalidOption(key, 'a function', o[key]);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
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
  return Object.freeze({
    scope,
    registration: Object.freeze(registration),
    classify: (o.classify as ParsedCall['classify']) ?? null,
    isFailure: (o.isFailure as ParsedCall['isFailure']) ?? null,
    fallback: (o.fallback as ParsedCall['fallback']) ?? null,
    signal: o.signal ?? null,
    timeout: timeout ?? null,
  });
}
