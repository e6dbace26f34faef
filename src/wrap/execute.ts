import { CircuitOpenError } from '../core/circuit-open-error.js';
import { scheduleOn, type CancelTimer } from '../core/clock.js';
import { BramaError } from '../core/errors.js';
import type { ConnectionRecord } from '../core/record.js';
import type { Outcome } from '../stores/store.js';
import type { ParsedCall } from './call-options.js';
import type { CallGate } from './gate.js';

/**
 * The signal of a call that nothing can abort (no `timeout`, no `signal`): one shared signal that
 * never aborts, instead of an `AbortController` per call (creating its signal costs several µs on
 * Node 20). It keeps no listeners (`addEventListener` does nothing): one that can never fire
 * would only pile up across calls. Node 20's `AbortSignal.any([signal, ...])` still remembers
 * every signal made from it, as it does for any long-lived signal: prefer the `timeout` option.
 */
const NEVER: AbortSignal = new AbortController().signal;
const ignoreListener = (): void => {};
Object.defineProperties(NEVER, {
  addEventListener: { value: ignoreListener },
  removeEventListener: { value: ignoreListener },
});

/** `args` of a `run` call: the function gets the signal instead. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * Runs one protected call: admission, the call, classification, the report, the fallback, and
 * the call's own abort/timeout handling. `args === null` is a `run` call: `fn(signal)`;
 * otherwise a wrapped call: `fn.apply(thisArg, args)`. `wantsSignal`: `fn` can see its signal.
 */
export function execute<T>(
  gate: CallGate,
  identifier: string,
  call: ParsedCall,
  fn: (...args: never[]) => T | PromiseLike<T>,
  thisArg: unknown,
  args: readonly unknown[] | null,
  wantsSignal: boolean,
): Promise<T> {
  const callerSignal = call.signal;
  if (callerSignal !== null && callerSignal.aborted) {
    return Promise.reject(callerSignal.reason as Error);
  }
  let entered: ConnectionRecord | CircuitOpenError;
  try {
    entered = gate.enter(identifier, call.scope, call.registration);
  } catch (error) {
    return Promise.reject(error);
  }
  if (entered instanceof CircuitOpenError) return refuse(entered, call, args ?? NO_ARGS);
  const settlement = new Settlement<T>(gate, entered, call, args ?? NO_ARGS);
  if (callerSignal !== null || call.timeout !== null) {
    return guarded(settlement, identifier, fn, thisArg, args, wantsSignal);
  }
  let result: T | PromiseLike<T>;
  try {
    result = invoke(fn, thisArg, args, NEVER);
  } catch (error) {
    return settlement.rejectedNow(error);
  }
  if (!isThenable(result)) return settlement.fulfilledNow(result);
  // Settled in one `then`: no async frame, one promise and one microtask fewer than `await`.
  return toPromise(result).then(settlement.onFulfilled, settlement.onRejected);
}

function invoke<T>(
  fn: (...args: never[]) => T | PromiseLike<T>,
  thisArg: unknown,
  args: readonly unknown[] | null,
  signal: AbortSignal,
): T | PromiseLike<T> {
  return args === null
    ? (fn as (signal: AbortSignal) => T | PromiseLike<T>)(signal)
    : (Reflect.apply(fn, thisArg, args) as T | PromiseLike<T>);
}

/** The path with an abort signal and/or a timeout. */
function guarded<T>(
  settlement: Settlement<T>,
  identifier: string,
  fn: (...args: never[]) => T | PromiseLike<T>,
  thisArg: unknown,
  args: readonly unknown[] | null,
  wantsSignal: boolean,
): Promise<T> {
  const { gate, record, call } = settlement;
  return new Promise<T>((resolve, reject) => {
    const callerSignal = call.signal;
    const timeout = call.timeout;
    // The function's signal: the caller's when only the caller can abort. With a timeout, a
    // controller of ours (which the caller's abort is forwarded to), but only when the function
    // can see the signal: creating one costs microseconds on Node 20.
    const controller = timeout !== null && wantsSignal ? new AbortController() : null;
    const signal = controller?.signal ?? callerSignal ?? NEVER;
    let done = false;
    let cancelTimer: CancelTimer | null = null;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      cancelTimer?.();
      callerSignal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      const reason = callerSignal?.reason as unknown;
      controller?.abort(reason);
      gate.leave(record, 'ignore', null, settlement.trial);
      reject(reason);
    };
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== null) {
      cancelTimer = scheduleOn(
        gate.clock,
        () => {
          if (!finish()) return;
          const error = new BramaError(
            'BRAMA_TIMEOUT',
            `Call to ${JSON.stringify(identifier)} did not settle within ${timeout} ms`,
          );
          controller?.abort(error);
          resolve(settlement.timedOut(error));
        },
        timeout,
      );
    }
    let result: T | PromiseLike<T>;
    try {
      result = invoke(fn, thisArg, args, signal);
    } catch (error) {
      if (finish()) resolve(settlement.rejectedNow(error));
      return;
    }
    toPromise(result).then(
      (value) => {
        if (!finish()) return;
        try {
          resolve(settlement.fulfilled(value));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        if (finish()) resolve(settlement.rejectedNow(error));
      },
    );
  });
}

function refuse<T>(
  error: CircuitOpenError,
  call: ParsedCall,
  args: readonly unknown[],
): Promise<T> {
  if (call.onRefusal === null) return Promise.reject(error);
  return fallBack(call.onRefusal, error, args);
}

function fallBack<T>(
  fallback: (error: unknown, ...args: unknown[]) => unknown,
  error: unknown,
  args: readonly unknown[],
): Promise<T> {
  try {
    const result = args.length === 0 ? fallback(error) : fallback(error, ...args);
    return Promise.resolve(result as T | PromiseLike<T>);
  } catch (fallbackError) {
    return Promise.reject(fallbackError);
  }
}

/**
 * How one admitted call ends: its outcome is reported through the gate, then the value is
 * returned or the error re-thrown (or the fallback's result returned, for a failure when
 * `fallbackOn` asks for it). `onFulfilled` and `onRejected` are bound, for `then`.
 */
class Settlement<T> {
  /** Admitted as a half-open trial. */
  readonly trial: boolean;

  constructor(
    readonly gate: CallGate,
    readonly record: ConnectionRecord,
    readonly call: ParsedCall,
    private readonly args: readonly unknown[],
  ) {
    this.trial = record.circuit.state === 'half_open';
  }

  readonly onFulfilled = (value: T): T => this.fulfilled(value);

  /** Reports the failure; re-throws the error, or returns the fallback's promise. */
  readonly onRejected = (error: unknown): Promise<T> => {
    const fallback = this.failed(error) ? this.call.onFailure : null;
    if (fallback === null) throw error;
    return fallBack(fallback, error, this.args);
  };

  fulfilledNow(value: T): Promise<T> {
    try {
      return Promise.resolve(this.fulfilled(value));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A timeout: always counted as a failure (`isFailure` is for the function's own errors). */
  timedOut(error: BramaError): Promise<T> {
    this.gate.leave(this.record, 'failure', error, this.trial);
    const fallback = this.call.onFailure;
    return fallback === null ? Promise.reject(error) : fallBack(fallback, error, this.args);
  }

  rejectedNow(error: unknown): Promise<T> {
    try {
      return this.onRejected(error);
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }

  /**
   * Classifies and reports a fulfilled call and returns its value; throws when the classifier
   * throws or answers nonsense (then nothing is counted).
   */
  fulfilled(value: T): T {
    const { gate, record, call, trial } = this;
    if (call.classify === null) {
      gate.leave(record, 'success', null, trial);
      return value;
    }
    let verdict: unknown;
    try {
      verdict = call.classify(value);
    } catch (error) {
      gate.leave(record, 'ignore', null, trial);
      throw error;
    }
    const [outcome, reason] = readVerdict(verdict);
    if (outcome === null) {
      gate.leave(record, 'ignore', null, trial);
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        `Invalid option "classify": expected it to return 'success', 'failure', { failure: reason } or 'ignore', received ${String(verdict)}`,
      );
    }
    gate.leave(record, outcome, reason, trial);
    return value;
  }

  /** Reports a thrown or rejected call; returns whether it counted as a failure. */
  private failed(error: unknown): boolean {
    let counts = true;
    if (this.call.isFailure !== null) {
      try {
        counts = this.call.isFailure(error) !== false;
      } catch {
        counts = true; // a broken predicate must not hide the dependency's failure
      }
    }
    this.gate.leave(this.record, counts ? 'failure' : 'ignore', error, this.trial);
    return counts;
  }
}

function readVerdict(verdict: unknown): [Outcome, unknown] | [null, null] {
  if (verdict === 'success' || verdict === 'failure' || verdict === 'ignore')
    return [verdict, null];
  if (typeof verdict === 'object' && verdict !== null && 'failure' in verdict) {
    return ['failure', verdict.failure];
  }
  return [null, null];
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A native promise as it is; any other thenable adopted by one. */
function toPromise<T>(value: T | PromiseLike<T>): Promise<T> {
  return value instanceof Promise ? (value as Promise<T>) : Promise.resolve(value);
}
