import { BramaError } from './errors.js';
import type { CircuitState } from './state.js';

/** Thrown (or passed to a fallback) when a call is refused because its circuit is open. */
export class CircuitOpenError extends BramaError {
  /** Always `BRAMA_CIRCUIT_OPEN`. */
  declare readonly code: 'BRAMA_CIRCUIT_OPEN';
  /** The refused connection's identifier. */
  readonly identifier: string;
  /** The refused connection's scope, `null` when it has none. */
  readonly scope: string | null;
  /** The state that refused the call: `'open'`, or `'half_open'` when every trial slot is taken. */
  readonly state: CircuitState;
  /** Milliseconds until a call may be admitted again (0 when a trial slot may free at any moment). */
  readonly retryAfterMs: number;

  constructor(identifier: string, scope: string | null, state: CircuitState, retryAfterMs: number) {
    super(
      'BRAMA_CIRCUIT_OPEN',
      `Circuit ${scope === null ? '' : `${scope}/`}${identifier} is ${state}; retry after ${retryAfterMs} ms`,
    );
    this.identifier = identifier;
    this.scope = scope;
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }

  override get name(): string {
    return 'CircuitOpenError';
  }

  /**
   * Builds the error for a refused call without capturing a stack trace: refusals are the hot
   * path of an outage, and the stack would only point into brama.
   */
  static refusal(
    identifier: string,
    scope: string | null,
    state: CircuitState,
    retryAfterMs: number,
  ): CircuitOpenError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new CircuitOpenError(identifier, scope, state, retryAfterMs);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
