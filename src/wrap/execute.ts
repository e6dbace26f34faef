import { CircuitOpenError } from '../core/circuit-open-error.js';
import { scheduleOn, type CancelTimer } from '../core/clock.js';
import { BramaError, describe } from '../core/errors.js';
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
 * What a wrapped function remembers between calls: its connection's record (valid while it is
 * not removed: the lookup by name is saved) and the two callbacks that settle a call admitted on
 * it outside half-open, made once per record instead of once per call.
 */
export interface CallSite {
  record: ConnectionRecord | null;
  onFulfilled: ((value: unknown) => unknown) | null;
  onRejected: ((error: unknown) => PromiseLike<unknown>) | null;
}

/** A wrapped function: what it protects, how, and its {@link CallSite}. */
export interface WrappedSite extends CallSite {
  readonly gate: CallGate;
  readonly identifier: string;
  readonly call: ParsedCall;
  readonly fn: (...args: never[]) => unknown;
}

/** The site of a new wrapped function. */
export function wrappedSite(
  gate: CallGate,
  identifier: string,
  call: ParsedCall,
  fn: (...args: never[]) => unknown,
): WrappedSite {
  return { gate, identifier, call, fn, record: null, onFulfilled: null, onRejected: null };
}

/**
 * One call of a wrapped function. On a closed circuit whose record the site already holds (the
 * steady state), it skips the general path: the call goes straight to the function and is
 * settled by the site's callbacks. That saves about a third of brama's cost per call.
 */
export function executeWrapped<T>(
  site: WrappedSite,
  thisArg: unknown,
  args: readonly unknown[],
): Promise<T> {
  const record = site.record;
  if (
    site.call.direct &&
    record !== null &&
    record.circuit.state === 'closed' &&
    site.gate.admitsClosed(record)
  ) {
    let result: unknown;
    try {
      result = Reflect.apply(site.fn, thisArg, args);
    } catch (error) {
      return rejectedNow(site.gate, record, site.call, false, args, error);
    }
    if (!(result instanceof Promise)) {
      if (!isThenable(result))
        return fulfilledNow(site.gate, record, site.call, false, result as T);
      result = Promise.resolve(result);
    }
    return (result as Promise<T>).then(
      site.onFulfilled as (value: T) => T,
      site.onRejected as (error: unknown) => PromiseLike<T>,
    );
  }
  return execute(
    site.gate,
    site.identifier,
    site.call,
    site.fn as (...args: never[]) => T,
    thisArg,
    args,
    site,
  );
}

/**
 * One `run` call. On a registered, closed circuit (the steady state) it skips the general path:
 * the function is called at once and the call settled by two callbacks.
 */
export function executeRun<T>(
  gate: CallGate,
  identifier: string,
  call: ParsedCall,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
): Promise<T> {
  const record = call.direct ? gate.find(identifier, call.scope) : undefined;
  if (record === undefined || record.circuit.state !== 'closed' || !gate.admitsClosed(record)) {
    return execute(gate, identifier, call, fn as (...args: never[]) => T, undefined, null, null);
  }
  let result: T | PromiseLike<T>;
  try {
    result = fn(NEVER);
  } catch (error) {
    return rejectedNow(gate, record, call, false, null, error);
  }
  if (!(result instanceof Promise)) {
    if (!isThenable(result)) return fulfilledNow(gate, record, call, false, result);
    result = Promise.resolve(result);
  }
  // The callbacks of the latest connection and options `run` was called with are reused: the
  // common case is one connection called again and again, each call making two closures less.
  let site = lastRun;
  if (site.record !== record || site.call !== call || site.gate !== gate) {
    site = lastRun = {
      gate,
      call,
      record,
      onFulfilled: (value) => fulfilled(gate, record, call, false, value),
      onRejected: (error) => rejected(gate, record, call, false, null, error),
    };
  }
  return (result as Promise<T>).then(
    site.onFulfilled as (value: T) => T,
    site.onRejected as (error: unknown) => PromiseLike<T>,
  );
}

interface RunSite {
  readonly gate: CallGate | null;
  readonly call: ParsedCall | null;
  readonly record: ConnectionRecord | null;
  readonly onFulfilled: ((value: unknown) => unknown) | null;
  readonly onRejected: ((error: unknown) => PromiseLike<unknown>) | null;
}

let lastRun: RunSite = {
  gate: null,
  call: null,
  record: null,
  onFulfilled: null,
  onRejected: null,
};

/**
 * Runs one protected call: admission, the call, classification, the report, the fallback, and
 * the call's own abort/timeout handling. `args === null` is a `run` call: `fn(signal)`;
 * otherwise a wrapped call: `fn.apply(thisArg, args)`.
 * `site`: a wrapped function's memory of the record, saving the lookup by name.
 */
export function execute<T>(
  gate: CallGate,
  identifier: string,
  call: ParsedCall,
  fn: (...args: never[]) => T | PromiseLike<T>,
  thisArg: unknown,
  args: readonly unknown[] | null,
  site: CallSite | null,
): Promise<T> {
  const callerSignal = call.signal;
  if (callerSignal !== null && callerSignal.aborted) {
    return Promise.reject(callerSignal.reason as Error);
  }
  let entered: ConnectionRecord | CircuitOpenError;
  try {
    entered = gate.enter(identifier, call.scope, call.registration, site?.record ?? null);
  } catch (error) {
    return Promise.reject(error);
  }
  if (entered instanceof CircuitOpenError) return refuse(entered, call, args ?? NO_ARGS);
  const record = entered;
  const trial = record.circuit.state === 'half_open';
  const started = gate.startTime(record);
  if (callerSignal !== null || call.timeout !== null) {
    return guarded(gate, identifier, record, call, trial, fn, thisArg, args, started);
  }
  let result: T | PromiseLike<T>;
  try {
    result = invoke(fn, thisArg, args, NEVER);
  } catch (error) {
    return rejectedNow(gate, record, call, trial, args, error, started);
  }
  if (!(result instanceof Promise)) {
    if (!isThenable(result)) return fulfilledNow(gate, record, call, trial, result, started);
    result = Promise.resolve(result); // any other thenable, adopted by a native promise
  }
  const pending = result as Promise<T>;
  // Settled in one `then`: no async frame, one promise and one microtask fewer than `await`.
  if (site !== null && !trial && call.onFailure === null && Number.isNaN(started)) {
    // The site's callbacks need nothing of this call but its record (no trial to free, no
    // arguments for a fallback).
    if (site.record !== record) {
      site.record = record;
      site.onFulfilled = (value) => fulfilled(gate, record, call, false, value);
      site.onRejected = (error) => rejected(gate, record, call, false, null, error);
    }
    return pending.then(
      site.onFulfilled as (value: T) => T,
      site.onRejected as (error: unknown) => PromiseLike<T>,
    );
  }
  return pending.then(
    (value) => fulfilled(gate, record, call, trial, value, started),
    (error: unknown) => rejected<T>(gate, record, call, trial, args, error, started),
  );
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
  gate: CallGate,
  identifier: string,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  fn: (...args: never[]) => T | PromiseLike<T>,
  thisArg: unknown,
  args: readonly unknown[] | null,
  started: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const callerSignal = call.signal;
    const timeout = call.timeout;
    // The function's signal: the caller's when only the caller can abort. With a timeout, a
    // controller of ours (which the caller's abort is forwarded to), but only when the function
    // can see the signal (a `run` function that declares a parameter): creating one costs
    // microseconds on Node 20.
    const wantsSignal = args === null && fn.length > 0;
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
      gate.leave(record, 'aborted', null, trial);
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
          // A timeout always counts (`isFailure` judges the function's own errors).
          gate.leave(record, 'timeout', error, trial, started);
          const fallback = call.onFailure;
          if (fallback === null) reject(error);
          else resolve(fallBack<T>(fallback, error, args ?? NO_ARGS));
        },
        timeout,
      );
    }
    let result: T | PromiseLike<T>;
    try {
      result = invoke(fn, thisArg, args, signal);
    } catch (error) {
      if (finish()) resolve(rejectedNow(gate, record, call, trial, args, error, started));
      return;
    }
    toPromise(result).then(
      (value) => {
        if (!finish()) return;
        try {
          resolve(fulfilled(gate, record, call, trial, value, started));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        if (finish()) resolve(rejectedNow(gate, record, call, trial, args, error, started));
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
 * Classifies and reports a fulfilled call and returns its value; throws when the classifier
 * throws or answers nonsense (then nothing is counted). `started`: see `CallGate.startTime`.
 */
function fulfilled<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  value: T,
  started = NaN,
): T {
  if (call.classify === null) {
    gate.leave(record, 'success', null, trial, started);
    return value;
  }
  let verdict: unknown;
  try {
    verdict = call.classify(value);
  } catch (error) {
    gate.leave(record, 'ignore', null, trial, started);
    throw error;
  }
  const read = readVerdict(verdict);
  if (read === null) {
    gate.leave(record, 'ignore', null, trial, started);
    throw new BramaError(
      'BRAMA_INVALID_OPTION',
      `Invalid option "classify": expected it to return 'success', 'failure', { failure: reason, retryAfterMs? } (retryAfterMs: null or a finite number of ms >= 0) or 'ignore', received ${describe(verdict)}`,
    );
  }
  gate.leave(record, read.outcome, read.reason, trial, started, read.retryAfterMs);
  return value;
}

function fulfilledNow<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  value: T,
  started = NaN,
): Promise<T> {
  try {
    return Promise.resolve(fulfilled(gate, record, call, trial, value, started));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Rejects the promise it settles with `error`, when returned from a `then` callback. Cheaper than
 * re-throwing there (a throw through the promise machinery) or returning `Promise.reject(error)`
 * (a new rejected promise, tracked as unhandled until adopted): on Node 20 either makes a
 * failure cost about a third more than the unprotected rejection.
 */
class Rethrow {
  constructor(private readonly error: unknown) {}

  then(_onFulfilled: unknown, onRejected: (reason: unknown) => void): void {
    onRejected(this.error);
  }
}

/**
 * Reports a thrown or rejected call; the result rejects with the error unchanged, or is the
 * fallback's promise when the failure counted and `fallbackOn` asks for it.
 */
function rejected<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  args: readonly unknown[] | null,
  error: unknown,
  started = NaN,
): PromiseLike<T> {
  let counts = true;
  if (call.isFailure !== null) {
    try {
      counts = call.isFailure(error) !== false;
    } catch {
      counts = true; // a broken predicate must not hide the dependency's failure
    }
  }
  gate.leave(record, counts ? 'failure' : 'ignore', error, trial, started);
  const fallback = counts ? call.onFailure : null;
  if (fallback === null) return new Rethrow(error) as unknown as PromiseLike<never>;
  return fallBack(fallback, error, args ?? NO_ARGS);
}

function rejectedNow<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  args: readonly unknown[] | null,
  error: unknown,
  started = NaN,
): Promise<T> {
  return Promise.resolve(rejected<T>(gate, record, call, trial, args, error, started));
}

interface Verdict {
  readonly outcome: Outcome;
  readonly reason: unknown;
  readonly retryAfterMs: number | null;
}

const VERDICTS: Record<string, Verdict> = {
  success: { outcome: 'success', reason: null, retryAfterMs: null },
  failure: { outcome: 'failure', reason: null, retryAfterMs: null },
  ignore: { outcome: 'ignore', reason: null, retryAfterMs: null },
};

/** What a classifier said; `null` when it said nothing this version understands. */
function readVerdict(verdict: unknown): Verdict | null {
  if (typeof verdict === 'string') return VERDICTS[verdict] ?? null;
  if (typeof verdict !== 'object' || verdict === null || !('failure' in verdict)) return null;
  const { failure: reason, retryAfterMs } = verdict as {
    failure: unknown;
    retryAfterMs?: unknown;
  };
  if (retryAfterMs === undefined || retryAfterMs === null)
    return { outcome: 'failure', reason, retryAfterMs: null };
  if (typeof retryAfterMs !== 'number' || !Number.isFinite(retryAfterMs) || retryAfterMs < 0)
    return null;
  return { outcome: 'failure', reason, retryAfterMs };
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
