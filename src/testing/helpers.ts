import type { Brama, ScopeOptions } from '../brama.js';
import { normalizeScope, readOptions } from '../core/arguments.js';
import { describe, invalidArgument } from '../core/errors.js';
import type { CircuitState } from '../core/state.js';
import { INTERNALS } from '../internals.js';
import { isBrama } from '../is-brama.js';

/** Options of {@link addFailures}. */
export interface FailureSimulationOptions extends ScopeOptions {
  /** Reason recorded with every failure. */
  reason?: string | Error | undefined;
}

const SCOPE_ONLY: ReadonlySet<string> = new Set(['scope']);

/**
 * Throws `BRAMA_INVALID_ARGUMENT` unless `value` is a `Brama` registry (from either build of
 * brama: an instance made through `require('brama')` is accepted by `import`ed helpers).
 */
export function checkBrama(value: unknown): asserts value is Brama {
  if (!isBrama(value)) throw invalidArgument('brama', 'a Brama instance', value);
}

const FORCEABLE: ReadonlySet<string> = new Set(['closed', 'open', 'half_open']);
const STATES: ReadonlySet<string> = new Set(['unknown', 'closed', 'open', 'half_open']);

/** Forces a connection into `'closed'`, `'open'` or `'half_open'`, emitting the usual events. */
export function setState(
  brama: Brama,
  identifier: string,
  state: 'closed' | 'open' | 'half_open',
  opts?: ScopeOptions,
): void {
  checkBrama(brama);
  if (typeof state !== 'string' || !FORCEABLE.has(state)) {
    throw invalidArgument('state', "'closed', 'open' or 'half_open'", state);
  }
  brama[INTERNALS]().force(identifier, state, opts);
}

/** Reports `count` failures on a connection. */
export function addFailures(
  brama: Brama,
  identifier: string,
  count: number,
  opts?: FailureSimulationOptions,
): void {
  checkBrama(brama);
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw invalidArgument('count', 'an integer >= 0', count);
  }
  const o = readOptions(opts, 'addFailures options', new Set(['scope', 'reason']));
  brama.status(identifier, { scope: normalizeScope(o.scope) }); // validates and throws BRAMA_NOT_FOUND first
  for (let i = 0; i < count; i++) brama.failure(identifier, o);
}

/** Alias of {@link addFailures}. */
export const simulateFailures = addFailures;

/**
 * Takes an open (or half-open) circuit through half-open to closed: forces half-open if needed,
 * then reports a successful trial. A closed or unknown circuit is left as it is.
 */
export function simulateRecovery(brama: Brama, identifier: string, opts?: ScopeOptions): void {
  checkBrama(brama);
  const scope = normalizeScope(readOptions(opts, 'simulateRecovery options', SCOPE_ONLY).scope);
  const { state } = brama.status(identifier, { scope });
  if (state === 'closed' || state === 'unknown') return;
  if (state === 'open') setState(brama, identifier, 'half_open', { scope });
  brama.success(identifier, { scope });
}

/** Throws a readable `Error` unless the connection is in `state`. */
export function expectState(
  brama: Brama,
  identifier: string,
  state: CircuitState,
  opts?: ScopeOptions,
): void {
  checkBrama(brama);
  if (typeof state !== 'string' || !STATES.has(state)) {
    throw invalidArgument('state', "'unknown', 'closed', 'open' or 'half_open'", state);
  }
  const status = brama.status(identifier, opts);
  if (status.state === state) return;
  const where =
    status.scope === null
      ? describe(identifier)
      : `${describe(identifier)} (scope ${describe(status.scope)})`;
  throw new StateAssertionError(
    `Expected connection ${where} to be ${state}, but it is ${status.state} ` +
      `(failureCount ${status.failureCount}/${status.maxAttempts}, openUntil ${status.openUntil ?? 'null'})`,
    status.state,
    state,
  );
}

/** Thrown by {@link expectState}; `actual` and `expected` let test runners show a diff. */
export class StateAssertionError extends Error {
  constructor(
    message: string,
    readonly actual: CircuitState,
    readonly expected: CircuitState,
  ) {
    super(message);
  }

  override get name(): string {
    return 'StateAssertionError';
  }
}
