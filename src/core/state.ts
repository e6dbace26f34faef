/**
 * The state of one circuit: `'unknown'` until an outcome is reported, `'closed'` while calls
 * flow, `'open'` while they are refused, `'half_open'` while a few trial calls may pass.
 */
export type CircuitState = 'unknown' | 'closed' | 'open' | 'half_open';

/** Every state, in a stable order. */
export const CIRCUIT_STATES: readonly CircuitState[] = Object.freeze([
  'unknown',
  'closed',
  'open',
  'half_open',
]);

/**
 * The state machine part of a connection: an immutable value that only the pure functions of
 * `transitions.ts` produce. Counters and report times live beside it (they change on every
 * report; the circuit changes only on transitions), so the hot path allocates nothing.
 */
export interface Circuit {
  readonly state: CircuitState;
  /** Consecutive failures since the last success or close. */
  readonly failureCount: number;
  /** When the circuit last opened (kept after it half-opens or closes), `null` when never. */
  readonly openedAt: number | null;
  /** While `'open'`: when it may half-open. `null` in every other state. */
  readonly openUntil: number | null;
  /** Consecutive openings without a close in between (drives progressive expiry). */
  readonly openings: number;
  /** While `'half_open'`: admission times of trial calls that have not reported yet. */
  readonly trials: readonly number[];
  /** When the state last changed (registration counts as the first change). */
  readonly changedAt: number;
  /**
   * Bumped by every transition and manual action. Lets a shared store fence off late results:
   * a result computed against an older generation cannot undo newer state.
   */
  readonly generation: number;
  /** While `'half_open'`: successful trials so far in this period (`successThreshold` closes). */
  readonly trialSuccesses: number;
  /**
   * While `'closed'` after trials closed it: when the gradual ramp-up of admissions began
   * (`rampUpMs`); `null` otherwise.
   */
  readonly rampFrom: number | null;
}

/** A fresh circuit, as registration creates it. */
export function initialCircuit(now: number): Circuit {
  return circuit('unknown', 0, null, null, 0, NO_TRIALS, now, 0);
}

/**
 * Builds a circuit. Every circuit is created here, with one literal, so all share one object
 * shape: V8 keeps the code that reads them monomorphic, and building one is a plain allocation
 * (object spread of a circuit went through a slow runtime path, ~20x the cost).
 */
export function circuit(
  state: CircuitState,
  failureCount: number,
  openedAt: number | null,
  openUntil: number | null,
  openings: number,
  trials: readonly number[],
  changedAt: number,
  generation: number,
  trialSuccesses = 0,
  rampFrom: number | null = null,
): Circuit {
  return {
    state,
    failureCount,
    openedAt,
    openUntil,
    openings,
    trials,
    changedAt,
    generation,
    trialSuccesses,
    rampFrom,
  };
}

/** Shared empty trial list (frozen, so sharing it is safe). */
export const NO_TRIALS: readonly number[] = Object.freeze([]);
