/**
 * What each event does to a circuit at time `now`: pure functions from (circuit, settings, now)
 * to the next circuit. They never read a clock, never mutate, and return the very same object
 * when nothing changes, so callers detect change with `!==` and the hot path allocates nothing.
 *
 * Every function except `settle` expects a settled circuit (see `settle`).
 */
import { assertNever } from './assert-never.js';
import { openPeriod } from './backoff.js';
import type { CircuitSettings } from './settings.js';
import { circuit, NO_TRIALS, type Circuit, type CircuitState } from './state.js';

/**
 * Lazy expiry: an open circuit whose open period has elapsed is half-open from that moment
 * (`changedAt` is the moment it elapsed, not the moment it was noticed).
 */
export function settle(c: Circuit, now: number): Circuit {
  if (c.state !== 'open' || c.openUntil === null || now < c.openUntil) return c;
  return circuit(
    'half_open',
    c.failureCount,
    c.openedAt,
    null,
    c.openings,
    NO_TRIALS,
    c.openUntil,
    c.generation + 1,
  );
}

/**
 * May a call go ahead now? Returns the circuit to keep when admitted (in half-open it records
 * the trial), or `null` when refused. While a ramp-up runs (`rampUpMs` after trials closed the
 * circuit), a call is admitted when `random()` is below the share of time elapsed; once all of
 * it has elapsed, the ramp-up ends (the circuit returned has none) and nothing is drawn.
 */
export function admit(
  c: Circuit,
  s: CircuitSettings,
  now: number,
  random: () => number = Math.random,
): Circuit | null {
  switch (c.state) {
    case 'unknown':
      return c;
    case 'closed': {
      if (c.rampFrom === null) return c;
      const share = rampShare(c, s, now);
      // A ramp-up that has run its course ends here, without a draw: the hot path is back.
      if (share >= 1) return withoutRamp(c);
      return random() < share ? c : null;
    }
    case 'open':
      return null;
    case 'half_open': {
      const live = liveTrials(c.trials, s, now);
      if (live.length >= s.halfOpenProbes) return null;
      return withTrials(c, [...live, now]);
    }
    default:
      return assertNever(c.state);
  }
}

/**
 * The share of calls a ramping-up circuit admits at `now`: from 0 when trials closed it to 1
 * `rampUpMs` later (1 when there is no ramp-up).
 */
export function rampShare(c: Circuit, s: CircuitSettings, now: number): number {
  if (c.rampFrom === null || s.rampUpMs <= 0) return 1;
  return Math.min(1, Math.max(0, (now - c.rampFrom) / s.rampUpMs));
}

/**
 * Milliseconds until a call refused now would be admitted: the end of the open period, the
 * moment the oldest trial frees its slot, or the end of a ramp-up (when every call gets in
 * again; an earlier one may get in by chance). 0 when nothing holds calls back.
 */
export function retryAfter(c: Circuit, s: CircuitSettings, now: number): number {
  switch (c.state) {
    case 'open':
      return c.openUntil === null ? 0 : Math.max(0, c.openUntil - now);
    case 'half_open': {
      const live = liveTrials(c.trials, s, now);
      if (live.length < s.halfOpenProbes) return 0;
      return Math.max(0, Math.min(...live) + s.probeTimeout - now);
    }
    case 'closed':
      return c.rampFrom === null ? 0 : Math.max(0, Math.ceil(c.rampFrom + s.rampUpMs - now));
    case 'unknown':
      return 0;
    default:
      return assertNever(c.state);
  }
}

/**
 * A success: resets the consecutive count and closes an unknown circuit; counts a successful
 * trial of a half-open circuit, which closes once `successThreshold` did (starting a ramp-up
 * when `rampUpMs` is set). `tripped`: the trip policy opens the circuit on this outcome (a slow
 * success under the `'rate'` policy).
 */
export function onSuccess(c: Circuit, s: CircuitSettings, now: number, tripped = false): Circuit {
  switch (c.state) {
    case 'closed': {
      const reset = c.failureCount === 0 ? c : withFailures(c, 0);
      return tripped ? opened(reset, s, now, null) : reset;
    }
    case 'open':
      // A call that started before the trip: counted in totals only.
      return c;
    case 'unknown':
      return tripped ? opened(c, s, now, null) : closed(c, now);
    case 'half_open': {
      const successes = c.trialSuccesses + 1;
      if (successes >= s.successThreshold) return closed(c, now, s.rampUpMs > 0 ? now : null);
      // Not yet: this trial's slot is free again for the next one.
      return circuit(
        'half_open',
        c.failureCount,
        c.openedAt,
        c.openUntil,
        c.openings,
        c.trials.slice(1),
        c.changedAt,
        c.generation,
        successes,
        null,
      );
    }
    default:
      return assertNever(c.state);
  }
}

/**
 * A failure: counts towards the trip policy when closed (`maxAttempts` in a row, or `tripped`
 * when the `'rate'` policy's window says so); re-opens a half-open circuit. `retryAfterMs`
 * opens it at once for exactly that long, whatever the policy (result-driven opening); while
 * open, a failure only counts in the totals.
 */
export function onFailure(
  c: Circuit,
  s: CircuitSettings,
  now: number,
  tripped = false,
  retryAfterMs: number | null = null,
): Circuit {
  switch (c.state) {
    case 'unknown':
    case 'closed': {
      const failureCount = c.failureCount + 1;
      const trips =
        retryAfterMs !== null ||
        (s.tripPolicy === 'rate' ? tripped : failureCount >= s.maxAttempts);
      if (trips) return opened(withFailures(c, failureCount), s, now, retryAfterMs);
      if (c.state === 'closed') return withFailures(c, failureCount);
      return circuit(
        'closed',
        failureCount,
        c.openedAt,
        c.openUntil,
        c.openings,
        c.trials,
        now,
        c.generation + 1,
      );
    }
    case 'open':
      return c;
    case 'half_open':
      return opened(withFailures(c, c.failureCount + 1), s, now, retryAfterMs);
    default:
      return assertNever(c.state);
  }
}

/** A result that counts neither way (ignored): frees the oldest outstanding trial slot. */
export function onIgnored(c: Circuit): Circuit {
  if (c.state !== 'half_open' || c.trials.length === 0) return c;
  return withTrials(c, c.trials.slice(1));
}

/**
 * Manual open: opens now for `expiry` ms (this opening only) or the strategy's period. An
 * already open circuit starts a new open period without counting a new consecutive opening.
 */
export function openManually(
  c: Circuit,
  s: CircuitSettings,
  now: number,
  expiry: number | null,
): Circuit {
  return opened(c, s, now, expiry);
}

/** Manual close or reset: closed, consecutive count and progressive backoff back to zero. */
export function closeManually(c: Circuit, now: number): Circuit {
  return closed(c, now);
}

/** Forces a state (testing kit): like the manual actions, plus a direct move to half-open. */
export function force(
  c: Circuit,
  s: CircuitSettings,
  state: Exclude<CircuitState, 'unknown'>,
  now: number,
): Circuit {
  switch (state) {
    case 'closed':
      return closed(c, now);
    case 'open':
      return opened(c, s, now, null);
    case 'half_open':
      return circuit(
        'half_open',
        c.failureCount,
        c.openedAt ?? now,
        null,
        c.openings,
        NO_TRIALS,
        c.state === 'half_open' ? c.changedAt : now,
        c.generation + 1,
      );
    default:
      return assertNever(state);
  }
}

/** The same circuit with another consecutive failure count. */
export function withFailures(c: Circuit, failureCount: number): Circuit {
  return circuit(
    c.state,
    failureCount,
    c.openedAt,
    c.openUntil,
    c.openings,
    c.trials,
    c.changedAt,
    c.generation,
    c.trialSuccesses,
    c.rampFrom,
  );
}

function withoutRamp(c: Circuit): Circuit {
  return circuit(
    c.state,
    c.failureCount,
    c.openedAt,
    c.openUntil,
    c.openings,
    c.trials,
    c.changedAt,
    c.generation,
    c.trialSuccesses,
    null,
  );
}

function withTrials(c: Circuit, trials: readonly number[]): Circuit {
  return circuit(
    c.state,
    c.failureCount,
    c.openedAt,
    c.openUntil,
    c.openings,
    trials,
    c.changedAt,
    c.generation,
    c.trialSuccesses,
    c.rampFrom,
  );
}

function opened(c: Circuit, s: CircuitSettings, now: number, expiry: number | null): Circuit {
  const reopening = c.state === 'open';
  const openings = reopening ? c.openings : c.openings + 1;
  return circuit(
    'open',
    c.failureCount,
    now,
    now + (expiry ?? openPeriod(s, openings)),
    openings,
    NO_TRIALS,
    reopening ? c.changedAt : now,
    c.generation + 1,
  );
}

function closed(c: Circuit, now: number, rampFrom: number | null = null): Circuit {
  return circuit(
    'closed',
    0,
    c.openedAt,
    null,
    0,
    NO_TRIALS,
    c.state === 'closed' ? c.changedAt : now,
    c.generation + 1,
    0,
    rampFrom,
  );
}

/** Trials admitted less than `probeTimeout` ago (older ones have freed their slot). */
function liveTrials(trials: readonly number[], s: CircuitSettings, now: number): readonly number[] {
  if (trials.length === 0) return trials;
  const live = trials.filter((at) => now - at < s.probeTimeout);
  return live.length === trials.length ? trials : live;
}
