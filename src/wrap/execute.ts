import { CircuitOpenError } from '../core/circuit-open-error.js';
import { scheduleOn, type CancelTimer } from '../core/clock.js';
import { BramaError } from '../core/errors.js';
import type { ConnectionRecord } from '../core/record.js';
import type { Outcome } from '../stores/store.js';
import type { ParsedCall } from './call-options.js';
import type { CallGate } from './gate.js';

/**
 * A signal that never aborts, for functions that declare no parameter (they cannot listen to
 * it, so sharing it leaks nothing and saves an AbortController per call).
 */
const NEVER: AbortSignal = new AbortController().signal;

/**
 * Runs one protected call: admission, the call, classification, the report, and the call's own
 * abort/timeout handling. `invoke` receives the call's signal. `fallbackArgs` go to `fallback`.
 */
export function execute<T>(
  gate: CallGate,
  identifier: string,
  call: ParsedCall,
  invoke: (signal: AbortSignal) => T | PromiseLike<T>,
  wantsSignal: boolean,
  fallbackArgs: readonly unknown[],
): Promise<T> {
  const callerSignal = call.signal;
  if (callerSignal?.aborted) return Promise.reject(callerSignal.reason as Error);
  let entered: ConnectionRecord | CircuitOpenError;
  try {
    entered = gate.enter(identifier, call.scope, call.registration);
  } catch (error) {
    return Promise.reject(error);
  }
  if (entered instanceof CircuitOpenError) return refuse(entered, call, fallbackArgs);
  const record = entered;
  const trial = record.circuit.state === 'half_open';

  if (callerSignal === null && call.timeout === null) {
    let result: T | PromiseLike<T>;
    try {
      result = invoke(wantsSignal ? new AbortController().signal : NEVER);
    } catch (error) {
      return Promise.reject(failed(gate, record, call, trial, error));
    }
    if (!isThenable(result)) return settleNow(gate, record, call, trial, result);
    return settleLater(gate, record, call, trial, result);
  }
  return guarded(gate, identifier, record, call, trial, invoke, wantsSignal);
}

/** The path with an abort signal and/or a timeout. */
function guarded<T>(
  gate: CallGate,
  identifier: string,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  invoke: (signal: AbortSignal) => T | PromiseLike<T>,
  wantsSignal: boolean,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const callerSignal = call.signal;
    const timeout = call.timeout;
    // A function that declares no parameter cannot see its signal: it gets the caller's (or
    // NEVER) and the timeout needs no AbortController (one costs microseconds on Node 20).
    const controller = timeout !== null && wantsSignal ? new AbortController() : null;
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
      gate.leave(record, 'ignore', null, trial);
      reject(callerSignal?.reason as Error);
    };
    let signal: AbortSignal;
    if (controller === null) signal = callerSignal ?? NEVER;
    else
      signal =
        callerSignal === null
          ? controller.signal
          : AbortSignal.any([callerSignal, controller.signal]);
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== null) {
      const ms = timeout;
      cancelTimer = scheduleOn(
        gate.clock,
        () => {
          if (!finish()) return;
          const error = new BramaError(
            'BRAMA_TIMEOUT',
            `Call to ${JSON.stringify(identifier)} did not settle within ${ms} ms`,
          );
          controller?.abort(error);
          gate.leave(record, 'failure', error, trial);
          reject(error);
        },
        ms,
      );
    }
    let result: T | PromiseLike<T>;
    try {
      result = invoke(signal);
    } catch (error) {
      if (finish()) reject(failed(gate, record, call, trial, error));
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        if (!finish()) return;
        try {
          resolve(fulfilled(gate, record, call, trial, value));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        if (finish()) reject(failed(gate, record, call, trial, error));
      },
    );
  });
}

function refuse<T>(
  error: CircuitOpenError,
  call: ParsedCall,
  args: readonly unknown[],
): Promise<T> {
  if (call.fallback === null) return Promise.reject(error);
  try {
    return Promise.resolve(call.fallback(error, ...args) as T | PromiseLike<T>);
  } catch (fallbackError) {
    return Promise.reject(fallbackError);
  }
}

/** The common path: awaiting a native promise in an async function costs the fewest ticks. */
async function settleLater<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  pending: PromiseLike<T>,
): Promise<T> {
  let value: T;
  try {
    value = await pending;
  } catch (error) {
    throw failed(gate, record, call, trial, error);
  }
  return fulfilled(gate, record, call, trial, value);
}

function settleNow<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  value: T,
): Promise<T> {
  try {
    return Promise.resolve(fulfilled(gate, record, call, trial, value));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Classifies and reports a fulfilled call and returns its value; throws when the classifier
 * throws or answers nonsense (then nothing is counted).
 */
function fulfilled<T>(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  value: T,
): T {
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

/** Reports a thrown or rejected call and returns the error to re-throw (unchanged). */
function failed(
  gate: CallGate,
  record: ConnectionRecord,
  call: ParsedCall,
  trial: boolean,
  error: unknown,
): unknown {
  let counts = true;
  if (call.isFailure !== null) {
    try {
      counts = call.isFailure(error) !== false;
    } catch {
      counts = true; // a broken predicate must not hide the dependency's failure
    }
  }
  gate.leave(record, counts ? 'failure' : 'ignore', error, trial);
  return error;
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
