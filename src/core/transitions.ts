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
 * the trial), or `null` when refused.
 */
export function admit(c: Circuit, s: CircuitSettings, now: number): Circuit | null {
  switch (c.state) {
    case 'unknown':
    case 'closed':
      return c;
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

/** Milliseconds until a refused call could be admitted (0 when it could be now). */
export function retryAfter(c: Circuit, s: CircuitSettings, now: number): number {
  switch (c.state) {
    case 'open':
      return c.openUntil === null ? 0 : Math.max(0, c.openUntil - now);
    case 'half_open': {
      const live = liveTrials(c.trials, s, now);
      if (live.length < s.halfOpenProbes) return 0;
      return Math.max(0, Math.min(...live) + s.probeTimeout - now);
    }
    case 'unknown':
    case 'closed':
      return 0;
    default:
      return assertNever(c.state);
  }
}

/** A success: resets the consecutive count; closes an unknown or half-open circuit. */
export function onSuccess(c: Circuit, _s: CircuitSettings, now: number): Circuit {
  switch (c.state) {
    case 'closed':
      return c.failureCount === 0 ? c : withFailures(c, 0);
    case 'open':
      // A call that started before the trip: counted in totals only.
      return c;
    case 'unknown':
    case 'half_open':
      return closed(c, now);
    default:
      return assertNever(c.state);
  }
}

/** A failure: counts towards `maxAttempts` when closed; re-opens a half-open circuit. */
export function onFailure(c: Circuit, s: CircuitSettings, now: number): Circuit {
  switch (c.state) {
    case 'unknown':
    case 'closed': {
      const failureCount = c.failureCount + 1;
      if (failureCount >= s.maxAttempts) return opened(withFailures(c, failureCount), s, now, null);
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
      return opened(withFailures(c, c.failureCount + 1), s, now, null);
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

function withFailures(c: Circuit, failureCount: number): Circuit {
  return circuit(
    c.state,
    failureCount,
    c.openedAt,
    c.openUntil,
    c.openings,
    c.trials,
    c.changedAt,
    c.generation,
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

function closed(c: Circuit, now: number): Circuit {
  return circuit(
    'closed',
    0,
    c.openedAt,
    null,
    0,
    NO_TRIALS,
    c.state === 'closed' ? c.changedAt : now,
    c.generation + 1,
  );
}

/** Trials admitted less than `probeTimeout` ago (older ones have freed their slot). */
function liveTrials(trials: readonly number[], s: CircuitSettings, now: number): readonly number[] {
  if (trials.length === 0) return trials;
  const live = trials.filter((at) => now - at < s.probeTimeout);
  return live.length === trials.length ? trials : live;
}
