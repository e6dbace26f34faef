/**
 * Model-based property tests of `Brama` against PRODUCT.md §2 and §8.
 *
 * Random command sequences run against a real `Brama` (on a `ManualClock`, with a seeded `random`)
 * and against the small reference model below, which re-states the spec on its own (it imports
 * nothing from `src/core`). After every command, every registered connection's `status` must
 * equal the model's view of it, errors must match, and both sides must have drawn the same
 * number of random values. The second property checks that the emitted events agree with the
 * state changes (one `state_change` per transition, with matching `from`/`to`/`reason`/`trip`, in
 * order).
 *
 * Where the spec is silent the model follows brama's documented choices:
 * - a failure in `'unknown'` moves to `'closed'` with count 1 (or straight to `'open'` when
 *   it trips: `maxAttempts` 1, a rate rule, a `retryAfterMs`); a success there that trips the
 *   slow-call rate goes straight to `'open'` too;
 * - a lazily observed half-open has `lastStateChangeAt` = the moment the open period elapsed;
 * - manual close/reset of an already closed circuit keep `lastStateChangeAt`;
 * - any close resets the consecutive-opening counter; a manual open of a circuit that is not
 *   open counts as a consecutive opening, re-opening an open one does not (it restarts the
 *   period with the same n); an opening for `retryAfterMs` counts like any other;
 * - a manual open keeps the consecutive failure count; a report while open changes neither the
 *   count, the window nor the state;
 * - half-open trial slots are judged with the *current* `probeTimeout` and `halfOpenProbes`, and
 *   slots whose time is up are discarded when a new trial is admitted; a successful trial below
 *   `successThreshold` frees the oldest slot and keeps the circuit half-open;
 * - option validation: a value out of range, `maxExpiry < initialExpiry` or `minimumCalls` above
 *   a count window given together (in the constructor, a global configure, a register, or a
 *   connection's merged own options) throws `BRAMA_INVALID_OPTION` and changes nothing; across
 *   levels the effective `minimumCalls` is capped by the count window; validation comes before
 *   the `BRAMA_ALREADY_REGISTERED` check, the `BRAMA_NOT_FOUND` check before validation (of
 *   configure patches and of `durationMs`/`retryAfterMs`);
 * - trip policies (§8): only outcomes recorded while `'unknown'` or `'closed'` enter the window;
 *   it empties whenever the circuit closes after being open or half-open, and on every
 *   `closeCircuit`/`resetCircuit`, not on `unknown → closed`; under `'rate'` the consecutive
 *   count is still kept (status) but `maxAttempts` never trips; the failure rate is checked
 *   before the slow-call rate (the event names the first that trips), and the slow-call rule is
 *   off while `slowCallMs` is `null`; whether an outcome is slow is decided when it is recorded;
 *   a time window `{ ms: T }` counts the buckets of width T/10 (aligned to multiples of it) whose
 *   index is at least floor(now / width) - 9; rates are `null` below `minimumCalls`;
 * - ramp-up: it begins when successful trials close a half-open circuit with `rampUpMs > 0`
 *   (share = (now - that moment) / the current `rampUpMs`, capped at 1; `rampUpMs` 0: 1), and
 *   lasts until the next transition or manual close/reset, or until the first `isAvailable` at
 *   a share of 1, which ends it: `random` is drawn once per `isAvailable` of a closed circuit
 *   whose share is below 1, and in no other state;
 * - `mode: 'shadow'`: everything as in `'enforce'` (trial slots taken, random drawn), but
 *   `isAvailable` answers `true`.
 *
 * - a change of a connection's trip policy or window shape (by any configure) starts an empty
 *   window: `'consecutive'` keeps no window, and a window's counts only make sense in its shape.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Brama, isBramaError, type BramaEvent } from './index.js';
import { ManualClock } from './testing/index.js';

// ---------------------------------------------------------------------------------------------
// Settings

const KEYS = [
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
] as const;

type Key = (typeof KEYS)[number];

type Strategy = 'fixed' | 'progressive';
type Policy = 'consecutive' | 'rate';
type Mode = 'enforce' | 'shadow';
type WindowSpec = { calls: number } | { ms: number };

interface Settings {
  maxAttempts: number;
  expiry: number;
  expiryStrategy: Strategy;
  initialExpiry: number;
  maxExpiry: number;
  backoffFactor: number;
  halfOpenProbes: number;
  probeTimeout: number;
  tripPolicy: Policy;
  failureRateThreshold: number;
  slowCallMs: number | null;
  slowCallRateThreshold: number;
  window: WindowSpec;
  minimumCalls: number;
  successThreshold: number;
  rampUpMs: number;
  mode: Mode;
}

/** Options as a user passes them (values may be invalid on purpose, or `undefined`). */
type Patch = Partial<Record<Key, unknown>>;

const isInt1 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isMs = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
/** A duration in ms (§8: finite, >= 0). */
const isMs0 = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** A share (§8: 0 < x <= 1). */
const isShare = (v: unknown): boolean => typeof v === 'number' && v > 0 && v <= 1;

/**
 * `{ calls: N }` (an integer >= 1) or `{ ms: T }` (ms > 0), nothing else. The implementation's
 * documented bounds (N <= 10,000, 10 <= T <= a day) are not generated either way.
 */
function isWindow(v: unknown): v is WindowSpec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const { calls, ms } = v as { calls?: unknown; ms?: unknown };
  if (keys[0] === 'calls') return isInt1(calls);
  if (keys[0] === 'ms') return isMs(ms);
  return false;
}

/** The spec's ranges (§2 and §8 tables). */
function validValue(key: Key, v: unknown): boolean {
  switch (key) {
    case 'maxAttempts':
    case 'halfOpenProbes':
    case 'minimumCalls':
    case 'successThreshold':
      return isInt1(v);
    case 'expiry':
    case 'initialExpiry':
    case 'maxExpiry':
    case 'probeTimeout':
      return isMs(v);
    case 'backoffFactor':
      return typeof v === 'number' && Number.isFinite(v) && v >= 1;
    case 'expiryStrategy':
      return v === 'fixed' || v === 'progressive';
    case 'tripPolicy':
      return v === 'consecutive' || v === 'rate';
    case 'failureRateThreshold':
    case 'slowCallRateThreshold':
      return isShare(v);
    case 'slowCallMs':
      return v === null || isMs0(v);
    case 'window':
      return isWindow(v);
    case 'rampUpMs':
      return isMs0(v);
    case 'mode':
      return v === 'enforce' || v === 'shadow';
  }
}

/** Whether a set of options given together is acceptable. */
function validPatch(p: Patch): boolean {
  for (const key of KEYS) {
    if (p[key] !== undefined && !validValue(key, p[key])) return false;
  }
  const { initialExpiry, maxExpiry, minimumCalls, window } = p;
  if (
    typeof initialExpiry === 'number' &&
    typeof maxExpiry === 'number' &&
    maxExpiry < initialExpiry
  )
    return false;
  // A minimum a count window given with it can never reach makes no sense (issue 12).
  return !(
    typeof minimumCalls === 'number' &&
    isWindow(window) &&
    'calls' in window &&
    minimumCalls > window.calls
  );
}

/** `patch` over `base`: given keys replace, keys given as `undefined` go back to inheriting. */
function merge(base: Patch, patch: Patch): Patch {
  const out: Patch = { ...base };
  for (const key of KEYS) {
    if (!(key in patch)) continue;
    if (patch[key] === undefined) delete out[key];
    else out[key] = patch[key];
  }
  return out;
}

/** Effective settings: own, then global, then defaults (§2 and §8 tables). */
function resolve(global: Patch, own: Patch): Settings {
  // `null` is a value (slowCallMs: no call is slow); only `undefined` inherits.
  const pick = (key: Key, fallback: unknown): unknown =>
    own[key] !== undefined ? own[key] : global[key] !== undefined ? global[key] : fallback;
  const expiry = pick('expiry', 60_000) as number;
  const window = pick('window', { calls: 100 }) as WindowSpec;
  const minimumCalls = pick('minimumCalls', 10) as number;
  return {
    maxAttempts: pick('maxAttempts', 5) as number,
    expiry,
    expiryStrategy: pick('expiryStrategy', 'fixed') as Strategy,
    initialExpiry: pick('initialExpiry', expiry) as number,
    maxExpiry: pick('maxExpiry', 10 * expiry) as number,
    backoffFactor: pick('backoffFactor', 2) as number,
    halfOpenProbes: pick('halfOpenProbes', 1) as number,
    probeTimeout: pick('probeTimeout', 30_000) as number,
    tripPolicy: pick('tripPolicy', 'consecutive') as Policy,
    failureRateThreshold: pick('failureRateThreshold', 0.5) as number,
    slowCallMs: pick('slowCallMs', null) as number | null,
    slowCallRateThreshold: pick('slowCallRateThreshold', 1) as number,
    window,
    // Set at different levels, a minimum above the count window is capped by it.
    minimumCalls: 'calls' in window ? Math.min(minimumCalls, window.calls) : minimumCalls,
    successThreshold: pick('successThreshold', 1) as number,
    rampUpMs: pick('rampUpMs', 0) as number,
    mode: pick('mode', 'enforce') as Mode,
  };
}

/** What the window is made of: it starts empty whenever this changes. */
function shapeOf(s: Settings): string {
  return s.tripPolicy === 'rate' ? JSON.stringify(s.window) : 'none';
}

/** A small seeded generator (mulberry32): the Brama and the model each get their own copy. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** How often the sequences reached each feature (checked after the main property). */
const coverage = new Map<string, number>();
function reached(feature: string): void {
  coverage.set(feature, (coverage.get(feature) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------
// The reference model

type State = 'unknown' | 'closed' | 'open' | 'half_open';

/** One outcome in a `'rate'` window. */
interface Entry {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

/** Why an outcome opened a circuit (events' `data.trip`). */
type Trip =
  | { rule: 'consecutive_failures'; failures: number; threshold: number }
  | { rule: 'failure_rate' | 'slow_call_rate'; rate: number; threshold: number; calls: number }
  | { rule: 'retry_after'; retryAfterMs: number }
  | { rule: 'failed_trial' };

/**
 * The trip an event must carry. `'trial'`: a failing half-open trial re-opened the circuit; the
 * spec names no rule for that: `{ rule: 'failed_trial' }` (a consecutive count would be wrong,
 * as it may be below `maxAttempts`).
 */
type ExpectedTrip = Trip | null | 'trial';

interface MConn {
  readonly identifier: string;
  readonly scope: string | null;
  readonly registeredAt: number;
  own: Patch;
  metadata: Record<string, unknown>;
  state: State;
  failureCount: number;
  totalFailures: number;
  totalSuccesses: number;
  lastFailureTime: number | null;
  lastFailureReason: string | null;
  lastSuccessTime: number | null;
  openedAt: number | null;
  openUntil: number | null;
  changedAt: number;
  /** n of the current run of consecutive openings (0 after any close). */
  openings: number;
  /** Admission times of the trials of the current half-open period. */
  trials: number[];
  /** Successful trials of the current half-open period. */
  trialSuccesses: number;
  /** When successful trials closed the circuit, while its ramp-up lasts; `null` otherwise. */
  rampFrom: number | null;
  /** The `'rate'` window's outcomes, oldest first (those that left it are dropped lazily). */
  entries: Entry[];
  /** The shape the entries were recorded under. */
  shape: string;
}

/** An event as the model predicts it. */
interface MEvent {
  type: string;
  identifier: string | null;
  scope: string | null;
  timestamp: number;
  from?: State;
  to?: State;
  reason?: unknown;
  trip?: ExpectedTrip;
}

type Specific = 'circuit_opened' | 'circuit_half_opened' | 'circuit_closed' | 'circuit_reset';

/** What a report carries besides its kind (§8). */
interface Report {
  failed: boolean;
  reason: unknown;
  durationMs: number | undefined;
  retryAfterMs: number | null;
}

class Model {
  global: Patch;
  readonly conns = new Map<number, MConn>();
  readonly events: MEvent[] = [];
  /** Values drawn from `random` so far. */
  draws = 0;

  constructor(
    public now: number,
    global: Patch,
    private readonly random: () => number,
  ) {
    this.global = { ...global };
  }

  settings(c: MConn): Settings {
    return resolve(this.global, c.own);
  }

  /** How long the n-th consecutive opening lasts. */
  period(c: MConn, n: number): number {
    const s = this.settings(c);
    if (s.expiryStrategy === 'fixed') return s.expiry;
    return Math.min(s.maxExpiry, s.initialExpiry * s.backoffFactor ** (n - 1));
  }

  private emit(c: MConn | null, type: string, extra: Partial<MEvent> = {}): void {
    this.events.push({
      type,
      identifier: c?.identifier ?? null,
      scope: c?.scope ?? null,
      timestamp: this.now,
      ...extra,
    });
  }

  /** state_change when the state changed, then the specific event (if any). */
  private transition(
    c: MConn,
    from: State,
    reason: unknown,
    specific: Specific | null,
    trip: ExpectedTrip = null,
  ): void {
    const to = c.state;
    if (from !== to) this.emit(c, 'state_change', { from, to, reason, trip });
    if (specific !== null) this.emit(c, specific, { from, to, reason, trip });
  }

  /** Lazy expiry: open whose period has elapsed is half-open since that moment. */
  settle(c: MConn): void {
    if (c.state !== 'open' || c.openUntil === null || this.now < c.openUntil) return;
    c.state = 'half_open';
    c.changedAt = c.openUntil;
    c.openUntil = null;
    c.trials = [];
    c.trialSuccesses = 0;
    this.transition(c, 'open', null, 'circuit_half_opened');
  }

  private open(c: MConn, expiry: number | null): void {
    if (c.state !== 'open') {
      c.openings += 1;
      c.changedAt = this.now;
    }
    c.state = 'open';
    c.openedAt = this.now;
    c.openUntil = this.now + (expiry ?? this.period(c, c.openings));
    c.trials = [];
    c.trialSuccesses = 0;
    c.rampFrom = null;
  }

  /** Any close (trials, manual, reset): also empties the window and ends a ramp-up. */
  private close(c: MConn): void {
    if (c.state !== 'closed') c.changedAt = this.now;
    c.state = 'closed';
    c.failureCount = 0;
    c.openings = 0;
    c.openUntil = null;
    c.trials = [];
    c.trialSuccesses = 0;
    c.rampFrom = null;
    c.entries = [];
  }

  register(slot: number, identifier: string, scope: string | null, own: Patch, meta: object): void {
    const c: MConn = {
      identifier,
      scope,
      registeredAt: this.now,
      own: { ...own },
      metadata: { ...meta },
      state: 'unknown',
      failureCount: 0,
      totalFailures: 0,
      totalSuccesses: 0,
      lastFailureTime: null,
      lastFailureReason: null,
      lastSuccessTime: null,
      openedAt: null,
      openUntil: null,
      changedAt: this.now,
      openings: 0,
      trials: [],
      trialSuccesses: 0,
      rampFrom: null,
      entries: [],
      shape: '',
    };
    c.shape = shapeOf(this.settings(c));
    this.conns.set(slot, c);
    this.emit(c, 'registration');
  }

  unregister(slot: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) return;
    this.conns.delete(slot);
    this.emit(c, 'connection_unregistered');
  }

  /** After a configure: a connection whose policy or window shape changed starts an empty one. */
  reshapeAll(): void {
    for (const c of this.conns.values()) this.window(c);
  }

  /**
   * Whether settings `global` (and `own` for `slot`) would change the policy or window shape of
   * a connection whose window holds outcomes now (coverage: such a configure must empty it, and
   * `status` must then show no counts).
   */
  reshapes(global: Patch, slot: number | null, own: Patch | null): boolean {
    for (const [i, c] of this.conns) {
      const after = resolve(global, i === slot && own !== null ? own : c.own);
      if (shapeOf(after) !== c.shape && this.window(c).length > 0) return true;
    }
    return false;
  }

  /** The outcomes in the connection's window now (empty unless `'rate'`). */
  window(c: MConn): Entry[] {
    const s = this.settings(c);
    const shape = shapeOf(s);
    if (shape !== c.shape) {
      c.shape = shape;
      c.entries = [];
    }
    if (s.tripPolicy !== 'rate') return c.entries;
    const w = s.window;
    if ('calls' in w) {
      if (c.entries.length > w.calls) c.entries = c.entries.slice(-w.calls);
      return c.entries;
    }
    const width = w.ms / 10;
    const oldest = Math.floor(this.now / width) - 9;
    const kept = c.entries.filter((e) => {
      const inside = Math.floor(e.at / width) >= oldest;
      // Self-check against §8's wording: an outcome leaves between 0.9 T and 1.1 T.
      const age = this.now - e.at;
      if (inside ? age >= 1.1 * w.ms : age < 0.9 * w.ms - 1e-6)
        fail(
          `model: outcome at ${e.at} ${inside ? 'in' : 'out of'} a ${w.ms} ms window at ${this.now}`,
        );
      return inside;
    });
    if (kept.length < c.entries.length) reached('time window: outcomes left it');
    c.entries = kept;
    return kept;
  }

  /** Records an outcome in the window and says whether (and by which rule) it trips. */
  private record(
    c: MConn,
    s: Settings,
    failed: boolean,
    durationMs: number | undefined,
  ): Trip | null {
    if (s.tripPolicy !== 'rate') return null;
    const slow = durationMs !== undefined && s.slowCallMs !== null && durationMs >= s.slowCallMs;
    if (slow) reached('slow outcome recorded');
    const entries = this.window(c);
    entries.push({ at: this.now, failed, slow });
    if ('calls' in s.window && entries.length > s.window.calls) {
      entries.shift();
      reached('count window: an outcome pushed out');
    }
    const calls = entries.length;
    if (calls < s.minimumCalls) return null;
    const failureRate = entries.filter((e) => e.failed).length / calls;
    if (failureRate >= s.failureRateThreshold)
      return { rule: 'failure_rate', rate: failureRate, threshold: s.failureRateThreshold, calls };
    if (s.slowCallMs === null) return null;
    const slowRate = entries.filter((e) => e.slow).length / calls;
    if (slowRate >= s.slowCallRateThreshold)
      return { rule: 'slow_call_rate', rate: slowRate, threshold: s.slowCallRateThreshold, calls };
    return null;
  }

  /** The next value of the shared random sequence. */
  private draw(): number {
    this.draws += 1;
    return this.random();
  }

  isAvailable(c: MConn): boolean {
    this.settle(c);
    const s = this.settings(c);
    const admitted = this.admits(c, s);
    if (!admitted && s.mode === 'shadow') reached('shadow: refused in enforce, let through');
    return admitted || s.mode === 'shadow';
  }

  /** The enforce-mode answer (takes a trial slot, draws during a ramp-up). */
  private admits(c: MConn, s: Settings): boolean {
    switch (c.state) {
      case 'unknown':
        return true;
      case 'closed': {
        if (c.rampFrom === null) return true;
        const share = s.rampUpMs <= 0 ? 1 : Math.min(1, (this.now - c.rampFrom) / s.rampUpMs);
        if (share >= 1) {
          reached('ramp-up: ended');
          c.rampFrom = null;
          return true;
        }
        const admitted = this.draw() < share;
        reached(admitted ? 'ramp-up: admitted' : 'ramp-up: refused');
        return admitted;
      }
      case 'open':
        return false;
      case 'half_open': {
        const live = c.trials.filter((at) => this.now - at < s.probeTimeout);
        if (live.length >= s.halfOpenProbes) return false;
        c.trials = [...live, this.now];
        return true;
      }
    }
  }

  /** A reported success or failure (§2, §8). */
  report(c: MConn, r: Report): void {
    this.settle(c);
    const from = c.state;
    const s = this.settings(c);
    if (r.failed) {
      c.totalFailures += 1;
      c.lastFailureTime = this.now;
      c.lastFailureReason =
        typeof r.reason === 'string'
          ? r.reason
          : r.reason instanceof Error
            ? String(r.reason)
            : null;
    } else {
      c.totalSuccesses += 1;
      c.lastSuccessTime = this.now;
    }
    let trip: ExpectedTrip = null;
    switch (from) {
      case 'open': // a call that started before the trip: totals only
        break;
      case 'unknown':
      case 'closed': {
        const rated = this.record(c, s, r.failed, r.durationMs);
        if (r.failed) {
          c.failureCount += 1;
          if (r.retryAfterMs !== null) trip = { rule: 'retry_after', retryAfterMs: r.retryAfterMs };
          else if (s.tripPolicy === 'rate') trip = rated;
          else if (c.failureCount >= s.maxAttempts)
            trip = {
              rule: 'consecutive_failures',
              failures: c.failureCount,
              threshold: s.maxAttempts,
            };
        } else {
          c.failureCount = 0;
          trip = rated;
        }
        if (trip !== null) {
          reached(`tripped: ${trip.rule}${r.failed ? '' : ' (by a success)'}`);
          if (from === 'unknown') reached('tripped from unknown');
          this.open(c, r.retryAfterMs);
        } else if (from === 'unknown') {
          // Not a close after an outage: the outcome just recorded stays in the window.
          c.state = 'closed';
          c.changedAt = this.now;
        }
        break;
      }
      case 'half_open':
        if (r.failed) {
          c.failureCount += 1;
          trip =
            r.retryAfterMs === null
              ? 'trial'
              : { rule: 'retry_after', retryAfterMs: r.retryAfterMs };
          this.open(c, r.retryAfterMs);
        } else {
          c.trialSuccesses += 1;
          if (c.trialSuccesses >= s.successThreshold) {
            this.close(c);
            if (s.rampUpMs > 0) {
              c.rampFrom = this.now;
              reached('ramp-up started');
            }
          } else {
            c.trials = c.trials.slice(1);
            reached('half-open: success below successThreshold');
          }
        }
        break;
    }
    if (r.failed) this.emit(c, 'failure', { reason: r.reason ?? null });
    else this.emit(c, 'success');
    const to = c.state;
    const specific =
      to === from
        ? null
        : to === 'open'
          ? 'circuit_opened'
          : from === 'half_open'
            ? 'circuit_closed'
            : null;
    this.transition(c, from, r.failed ? (r.reason ?? null) : null, specific, trip);
  }

  openCircuit(c: MConn, expiry: number | null, reason: unknown): void {
    this.settle(c);
    const from = c.state;
    this.open(c, expiry);
    this.transition(c, from, reason ?? null, 'circuit_opened');
  }

  closeCircuit(c: MConn, reason: unknown, kind: 'circuit_closed' | 'circuit_reset'): void {
    this.settle(c);
    const from = c.state;
    if (c.rampFrom !== null) reached('ramp-up ended by close/reset');
    this.close(c);
    this.transition(c, from, reason ?? null, kind);
  }

  cleanup(): void {
    for (const c of this.conns.values()) this.settle(c);
    this.emit(null, 'cleanup');
  }

  /**
   * Future moments at which something time-driven happens: ends of open periods and of trial
   * slots, the end of a ramp-up, outcomes leaving a time window.
   */
  boundaries(): number[] {
    const out: number[] = [];
    for (const c of this.conns.values()) {
      const s = this.settings(c);
      if (c.state === 'open' && c.openUntil !== null) out.push(c.openUntil);
      if (c.state === 'half_open') {
        for (const at of c.trials) out.push(at + s.probeTimeout);
      }
      if (c.state === 'closed' && c.rampFrom !== null) {
        for (const part of [0.25, 0.5, 0.75, 1]) out.push(c.rampFrom + s.rampUpMs * part);
      }
      if (s.tripPolicy === 'rate' && 'ms' in s.window) {
        const width = s.window.ms / 10;
        for (const e of this.window(c)) out.push((Math.floor(e.at / width) + 10) * width);
      }
    }
    return [...new Set(out.filter((t) => t >= this.now))].sort((a, b) => a - b);
  }

  expectedStatus(c: MConn): Record<string, unknown> {
    const outcomes = c.totalFailures + c.totalSuccesses;
    const s = this.settings(c);
    const entries = this.window(c);
    const calls = s.tripPolicy === 'rate' ? entries.length : 0;
    const enough = s.tripPolicy === 'rate' && calls > 0 && calls >= s.minimumCalls;
    return {
      identifier: c.identifier,
      scope: c.scope,
      state: c.state,
      failureCount: c.failureCount,
      totalFailures: c.totalFailures,
      totalSuccesses: c.totalSuccesses,
      successRate: outcomes === 0 ? null : c.totalSuccesses / outcomes,
      lastFailureTime: c.lastFailureTime,
      lastFailureReason: c.lastFailureReason,
      lastSuccessTime: c.lastSuccessTime,
      openedAt: c.openedAt,
      openUntil: c.openUntil,
      lastStateChangeAt: c.changedAt,
      timeSinceLastStateChange: this.now - c.changedAt,
      registeredAt: c.registeredAt,
      metadata: c.metadata,
      ...s,
      failureRate: enough ? entries.filter((e) => e.failed).length / calls : null,
      slowCallRate: enough ? entries.filter((e) => e.slow).length / calls : null,
      windowCalls: calls,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

/** The connections the commands pick from: keys that must never collide (§1). */
const CONNS: readonly { identifier: string; scope: string | null }[] = [
  { identifier: 'a', scope: null },
  { identifier: 'a', scope: 'b' },
  { identifier: 'b:a', scope: null },
  { identifier: 'b', scope: null },
  { identifier: 'a', scope: 'x' },
];

type Time = { kind: 'ms'; ms: number } | { kind: 'boundary'; pick: number; delta: number };

/** `durationMs` / `retryAfterMs` of a report: `undefined` means not given. */
type Cmd =
  | { op: 'register'; c: number; form: number; opts: Patch; metadata: number | null }
  | { op: 'unregister' | 'status'; c: number; form: number }
  | { op: 'success'; c: number; form: number; durationMs: unknown }
  | { op: 'isAvailable'; c: number; form: number; times: number }
  | { op: 'burst'; c: number; outcomes: { failed: boolean; durationMs: number | undefined }[] }
  | {
      op: 'failure';
      c: number;
      form: number;
      reason: number;
      durationMs: unknown;
      retryAfterMs: unknown;
    }
  | { op: 'close' | 'reset'; c: number; form: number; reason: number }
  | { op: 'open'; c: number; form: number; reason: number; expiry: number | null }
  | { op: 'configureConn'; c: number; form: number; patch: Patch; metadata: number | null }
  | { op: 'configureGlobal'; patch: Patch }
  | { op: 'list'; scope: number }
  | { op: 'cleanup' }
  | { op: 'tick' };

interface Step {
  time: Time | null;
  cmd: Cmd;
}

const windowArb: fc.Arbitrary<WindowSpec> = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((calls) => ({ calls })),
  fc.constantFrom(10, 15, 100, 250, 1000).map((ms) => ({ ms })),
);

const VALID: Record<Key, fc.Arbitrary<unknown>> = {
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  expiry: fc.constantFrom(1, 10, 100, 250, 1000),
  expiryStrategy: fc.constantFrom('fixed', 'progressive'),
  initialExpiry: fc.constantFrom(1, 10, 50, 100, 400),
  maxExpiry: fc.constantFrom(10, 100, 300, 1000, 5000),
  backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
  halfOpenProbes: fc.integer({ min: 1, max: 3 }),
  probeTimeout: fc.constantFrom(1, 10, 50, 100, 500),
  tripPolicy: fc.constantFrom('consecutive', 'rate', 'rate'),
  failureRateThreshold: fc.constantFrom(0.25, 1 / 3, 0.5, 0.6, 1),
  slowCallMs: fc.constantFrom(null, 0, 10, 50, 100),
  slowCallRateThreshold: fc.constantFrom(0.3, 0.5, 2 / 3, 1),
  window: windowArb,
  minimumCalls: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(12)),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  rampUpMs: fc.constantFrom(0, 1, 100, 1000, 5000),
  mode: fc.constantFrom('enforce', 'enforce', 'shadow'),
};

const INVALID: Record<Key, readonly unknown[]> = {
  maxAttempts: [0, 1.5, '3'],
  expiry: [-1, Number.NaN, Number.POSITIVE_INFINITY],
  expiryStrategy: ['linear'],
  initialExpiry: [-5, 0],
  maxExpiry: [Number.NaN, -1],
  backoffFactor: [-1, Number.NaN],
  halfOpenProbes: [0, 2.5],
  probeTimeout: [-1, Number.NaN],
  tripPolicy: ['percent', 1, null],
  failureRateThreshold: [0, 1.5, -0.5, Number.NaN, '0.5', null],
  slowCallMs: [-1, Number.NaN, Number.POSITIVE_INFINITY, '100'],
  slowCallRateThreshold: [0, 2, Number.NaN],
  window: [
    { calls: 0 },
    { calls: 1.5 },
    { calls: -3 },
    { calls: '5' },
    { ms: 0 },
    { ms: -10 },
    { ms: Number.NaN },
    { calls: 5, ms: 100 },
    { count: 5 },
    {},
    100,
    null,
    [5],
  ],
  minimumCalls: [0, 2.5, '3'],
  successThreshold: [0, 1.5, null],
  rampUpMs: [-5, Number.NaN, '100'],
  mode: ['audit', true],
};

const invalidEntry = fc
  .constantFrom(...KEYS)
  .chain((key) => fc.constantFrom(...INVALID[key]).map((value) => ({ key, value })));

/** A patch of valid values (optionally `undefined`: back to inheriting), rarely one invalid. */
function patchArb(allowUndefined: boolean): fc.Arbitrary<Patch> {
  const values = KEYS.map((key) => {
    const valid = VALID[key];
    return [
      key,
      allowUndefined ? fc.oneof({ weight: 5, arbitrary: valid }, fc.constant(undefined)) : valid,
    ] as const;
  });
  const record = fc.record(Object.fromEntries(values) as Record<Key, fc.Arbitrary<unknown>>, {
    requiredKeys: [],
  }) as fc.Arbitrary<Patch>;
  // Mostly consistent combinations, sometimes a conflict or a bad value.
  return fc
    .tuple(record, fc.nat({ max: 5 }), fc.option(invalidEntry, { freq: 12 }))
    .map(([p, dice, bad]) => {
      const out = dice === 0 ? p : consistent(p); // 1 in 6 keeps a conflict
      return bad === null ? out : { ...out, [bad.key]: bad.value };
    });
}

/**
 * Removes the conflicts of options given together: swaps `initialExpiry` and `maxExpiry`, and
 * lowers `minimumCalls` to a count window's size.
 */
function consistent(p: Patch): Patch {
  const out = { ...p };
  const { initialExpiry, maxExpiry, minimumCalls, window } = p;
  if (
    typeof initialExpiry === 'number' &&
    typeof maxExpiry === 'number' &&
    maxExpiry < initialExpiry
  ) {
    out.initialExpiry = maxExpiry;
    out.maxExpiry = initialExpiry;
  }
  if (typeof minimumCalls === 'number' && isWindow(window) && 'calls' in window) {
    out.minimumCalls = Math.min(minimumCalls, window.calls);
  }
  return out;
}

const durationArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constantFrom(0, 5, 10, 49, 50, 99, 100, 250, 1000) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY, '10', null),
  },
);

const retryAfterArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 14, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 50, 300, 2000) },
  { weight: 1, arbitrary: fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY, '5') },
);

const timeArb: fc.Arbitrary<Time> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(fc.constantFrom(0, 1, 9, 10, 99, 100, 101, 250, 1000, 5000), fc.nat({ max: 3000 }))
      .map((ms): Time => ({ kind: 'ms', ms })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ pick: fc.nat({ max: 4 }), delta: fc.constantFrom(-1, 0, 0, 1) })
      .map(({ pick, delta }): Time => ({ kind: 'boundary', pick, delta })),
  },
);

/** Biased towards the first two connections, so that sequences dwell on a circuit. */
const slot = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constant(1) },
  { weight: 3, arbitrary: fc.nat({ max: CONNS.length - 1 }) },
);
const form = fc.nat({ max: 3 });
const reason = fc.nat({ max: 2 });
const metadata = fc.option(fc.nat({ max: 9 }), { freq: 2 });

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('register' as const),
      c: slot,
      form,
      opts: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, patchArb(true)),
      metadata,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unregister' as const), c: slot, form }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('isAvailable' as const),
      c: slot,
      form,
      times: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('success' as const),
      c: slot,
      form,
      durationMs: durationArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('failure' as const),
      c: slot,
      form,
      reason,
      durationMs: durationArb,
      retryAfterMs: retryAfterArb,
    }),
  },
  {
    // Several outcomes at one instant: fills rate windows.
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('burst' as const),
      c: slot,
      outcomes: fc.array(
        fc.record({
          failed: fc.boolean(),
          durationMs: fc.constantFrom(undefined, 0, 10, 60, 200),
        }),
        { minLength: 2, maxLength: 8 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('open' as const),
      c: slot,
      form,
      reason,
      expiry: fc.option(fc.constantFrom(1, 5, 50, 200, 777.5), { freq: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), c: slot, form, reason }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const), c: slot, form, reason }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('status' as const), c: slot, form }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('list' as const), scope: fc.nat({ max: 3 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('configureGlobal' as const), patch: patchArb(false) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('configureConn' as const),
      c: slot,
      form,
      patch: patchArb(true),
      metadata,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'cleanup' as const }) },
  { weight: 3, arbitrary: fc.constant({ op: 'tick' as const }) },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  time: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, timeArb),
  cmd: cmdArb,
});

/**
 * Constructor options: valid global settings (a few keys), half of them under the `'rate'`
 * policy with a window small enough to fill and trip within a sequence.
 */
const initialArb: fc.Arbitrary<Patch> = fc
  .tuple(
    fc.record(VALID, { requiredKeys: [] }),
    fc.option(
      fc.record({
        tripPolicy: fc.constant('rate'),
        window: windowArb,
        minimumCalls: fc.integer({ min: 1, max: 4 }),
      }),
      { freq: 2, nil: undefined },
    ),
  )
  .map(([p, rate]) => consistent({ ...p, ...rate }));

const startArb = fc.constantFrom(0, 1_000, 1_700_000_000_000);

/** The seed of the `random` both sides draw from. */
const seedArb = fc.integer();

// ---------------------------------------------------------------------------------------------
// The harness

/** Options naming the connection, in one of several equivalent spellings. */
function scopeOpts(
  c: number,
  f: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> | undefined {
  const conn = CONNS[c] as (typeof CONNS)[number];
  if (conn.scope !== null) return { scope: conn.scope, ...extra };
  switch (f) {
    case 0:
      return Object.keys(extra).length === 0 ? undefined : extra;
    case 1:
      return { ...extra };
    case 2:
      return { scope: null, ...extra };
    default:
      return { scope: undefined, ...extra };
  }
}

function reasonValue(r: number): string | Error | undefined {
  if (r === 1) return 'boom';
  if (r === 2) return new Error('bad gateway');
  return undefined;
}

function withReason(r: unknown): Record<string, unknown> {
  return r === undefined ? {} : { reason: r };
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; error: unknown };

function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    const code = isBramaError(error) ? error.code : 'NOT_A_BRAMA_ERROR';
    return { ok: false, code, error };
  }
}

function fail(message: string): never {
  throw new Error(message);
}

function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

/** Compares a real outcome with the expected error code (`null`: must succeed). */
function expectOutcome(what: string, got: Outcome, code: string | null): unknown {
  if (code === null) {
    if (!got.ok) fail(`${what}: expected success, threw ${got.code}: ${String(got.error)}`);
    return got.value;
  }
  if (got.ok) fail(`${what}: expected ${code}, succeeded with ${show(got.value)}`);
  if (got.code !== code) fail(`${what}: expected ${code}, threw ${got.code}: ${String(got.error)}`);
  return undefined;
}

function compareStatus(what: string, actual: unknown, expected: Record<string, unknown>): void {
  const a = actual as Record<string, unknown>;
  const keys = Object.keys(expected);
  if (Object.keys(a).length !== keys.length) {
    fail(`${what}: status keys ${Object.keys(a).join(',')} != ${keys.join(',')}`);
  }
  for (const key of keys) {
    const got = a[key];
    const want = expected[key];
    const same =
      key === 'metadata' || key === 'window'
        ? JSON.stringify(got) === JSON.stringify(want)
        : Object.is(got, want);
    if (!same) fail(`${what}: ${key} = ${show(got)}, expected ${show(want)}`);
  }
}

interface World {
  readonly brama: Brama;
  readonly clock: ManualClock;
  readonly model: Model;
  /** Values the Brama has drawn from its `random`. */
  readonly draws: { count: number };
}

function createWorld(start: number, initial: Patch, seed: number): World {
  const clock = new ManualClock(start);
  const draws = { count: 0 };
  const source = seeded(seed);
  const random = (): number => {
    draws.count += 1;
    return source();
  };
  const brama = new Brama({ ...(initial as object), clock, cleanupInterval: 0, random });
  return { brama, clock, model: new Model(start, initial, seeded(seed)), draws };
}

/** Both sides drew the same number of values from their (identical) random sequences. */
function compareDraws({ draws, model }: World, context: string): void {
  if (draws.count !== model.draws)
    fail(`${context}: the Brama drew ${draws.count} random values, the model ${model.draws}`);
}

/** Shows NaN, infinities and `undefined` in messages (JSON would print null or nothing). */
function describeCmd(cmd: Cmd | Step): string {
  return JSON.stringify(cmd, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v === undefined ? 'undefined' : v,
  );
}

const describeStep = (step: Step): string => describeCmd(step);

/** `durationMs` and `retryAfterMs` of a report, as §8 accepts them (`undefined`: not given). */
function validDetails(durationMs: unknown, retryAfterMs: unknown): boolean {
  return (
    (durationMs === undefined || isMs0(durationMs)) &&
    (retryAfterMs === undefined || retryAfterMs === null || isMs0(retryAfterMs))
  );
}

function details(durationMs: unknown, retryAfterMs: unknown): Record<string, unknown> {
  return {
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

function moveTime({ clock, model }: World, time: Time | null): void {
  if (time === null) return;
  if (time.kind === 'ms') {
    clock.advance(time.ms);
    model.now += time.ms;
  } else {
    const bounds = model.boundaries();
    if (bounds.length === 0) return;
    const target = Math.max(model.now, (bounds[time.pick % bounds.length] as number) + time.delta);
    clock.set(target);
    model.now = target;
  }
  if (clock.now() !== model.now) fail(`clock ${clock.now()} != model ${model.now}`);
}

const BAD_OPTION = 'BRAMA_INVALID_OPTION';

/** Runs one command against both sides, comparing results and errors. */
function execute(world: World, cmd: Cmd): void {
  const { brama, model } = world;
  const what = describeCmd(cmd);
  if (cmd.op === 'tick') return;
  if (cmd.op === 'cleanup') {
    const got = expectOutcome(
      what,
      attempt(() => brama.cleanup()),
      null,
    );
    model.cleanup();
    if (got !== 0) fail(`${what}: removed ${show(got)}`);
    return;
  }
  if (cmd.op === 'configureGlobal') {
    const ok = validPatch(cmd.patch);
    const global = merge(model.global, cmd.patch);
    if (ok && model.reshapes(global, null, null)) reached('configure: a filled window reshaped');
    expectOutcome(
      what,
      attempt(() => brama.configure(cmd.patch as object)),
      ok ? null : 'BRAMA_INVALID_OPTION',
    );
    if (ok) {
      model.global = global;
      model.reshapeAll();
    }
    return;
  }
  if (cmd.op === 'list') {
    const scope = [undefined, null, 'b', 'x'][cmd.scope];
    const got = expectOutcome(
      what,
      attempt(() => brama.list(cmd.scope === 0 ? undefined : { scope })),
      null,
    ) as {
      identifier: string;
      scope: string | null;
    }[];
    const want = [...model.conns.values()].filter((c) => cmd.scope === 0 || c.scope === scope);
    for (const c of want) model.settle(c);
    const key = (x: { identifier: string; scope: string | null }): string =>
      JSON.stringify([x.identifier, x.scope]);
    const gotKeys = got.map(key).sort();
    const wantKeys = want.map(key).sort();
    if (JSON.stringify(gotKeys) !== JSON.stringify(wantKeys)) {
      fail(`${what}: listed ${gotKeys.join(' ')}, expected ${wantKeys.join(' ')}`);
    }
    for (const s of got) {
      const c = want.find((m) => key(m) === key(s)) as MConn;
      compareStatus(`${what} ${key(s)}`, s, model.expectedStatus(c));
    }
    return;
  }

  const conn = CONNS[cmd.c] as (typeof CONNS)[number];
  const id = conn.identifier;
  const m = model.conns.get(cmd.c);
  const notFound = m === undefined ? 'BRAMA_NOT_FOUND' : null;

  switch (cmd.op) {
    case 'register': {
      const meta = cmd.metadata === null ? {} : { metadata: { tag: cmd.metadata } };
      const opts = scopeOpts(cmd.c, cmd.form, { ...cmd.opts, ...meta });
      const code = !validPatch(cmd.opts)
        ? 'BRAMA_INVALID_OPTION'
        : m !== undefined
          ? 'BRAMA_ALREADY_REGISTERED'
          : null;
      const got = expectOutcome(
        what,
        attempt(() => brama.register(id, opts)),
        code,
      );
      if (code === null) {
        model.register(
          cmd.c,
          id,
          conn.scope,
          cmd.opts,
          cmd.metadata === null ? {} : { tag: cmd.metadata },
        );
        compareStatus(
          `${what} (returned)`,
          got,
          model.expectedStatus(model.conns.get(cmd.c) as MConn),
        );
      }
      return;
    }
    case 'unregister': {
      const got = expectOutcome(
        what,
        attempt(() => brama.unregister(id, scopeOpts(cmd.c, cmd.form))),
        null,
      );
      if (got !== (m !== undefined)) fail(`${what}: returned ${show(got)}`);
      model.unregister(cmd.c);
      return;
    }
    case 'isAvailable': {
      // A burst of callers at the same instant (this is what exercises the half-open slots).
      for (let k = 0; k < cmd.times; k++) {
        const got = expectOutcome(
          what,
          attempt(() => brama.isAvailable(id, scopeOpts(cmd.c, cmd.form))),
          null,
        );
        const want = m === undefined ? false : model.isAvailable(m);
        if (got !== want)
          fail(`${what}: call ${k}: isAvailable ${show(got)}, expected ${show(want)}`);
      }
      return;
    }
    case 'burst':
      for (const o of cmd.outcomes) {
        const opts = scopeOpts(cmd.c, 0, details(o.durationMs, undefined));
        const call = o.failed ? () => brama.failure(id, opts) : () => brama.success(id, opts);
        expectOutcome(what, attempt(call), notFound);
        if (m !== undefined)
          model.report(m, {
            failed: o.failed,
            reason: undefined,
            durationMs: o.durationMs,
            retryAfterMs: null,
          });
      }
      return;
    case 'status': {
      const got = expectOutcome(
        what,
        attempt(() => brama.status(id, scopeOpts(cmd.c, cmd.form))),
        notFound,
      );
      if (m !== undefined) {
        model.settle(m);
        compareStatus(what, got, model.expectedStatus(m));
      }
      return;
    }
    case 'success': {
      const code = notFound ?? (validDetails(cmd.durationMs, undefined) ? null : BAD_OPTION);
      const opts = scopeOpts(cmd.c, cmd.form, details(cmd.durationMs, undefined));
      expectOutcome(
        what,
        attempt(() => brama.success(id, opts)),
        code,
      );
      if (m === undefined) return;
      if (code !== null) reached('invalid report options');
      else
        model.report(m, {
          failed: false,
          reason: null,
          durationMs: cmd.durationMs as number | undefined,
          retryAfterMs: null,
        });
      return;
    }
    case 'failure': {
      const r = reasonValue(cmd.reason);
      const code = notFound ?? (validDetails(cmd.durationMs, cmd.retryAfterMs) ? null : BAD_OPTION);
      const opts = scopeOpts(cmd.c, cmd.form, {
        ...withReason(r),
        ...details(cmd.durationMs, cmd.retryAfterMs),
      });
      expectOutcome(
        what,
        attempt(() => brama.failure(id, opts)),
        code,
      );
      if (m === undefined) return;
      if (code !== null) reached('invalid report options');
      else
        model.report(m, {
          failed: true,
          reason: r,
          durationMs: cmd.durationMs as number | undefined,
          retryAfterMs: (cmd.retryAfterMs ?? null) as number | null,
        });
      return;
    }
    case 'open': {
      const r = reasonValue(cmd.reason);
      const extra = { ...withReason(r), ...(cmd.expiry === null ? {} : { expiry: cmd.expiry }) };
      expectOutcome(
        what,
        attempt(() => brama.openCircuit(id, scopeOpts(cmd.c, cmd.form, extra))),
        notFound,
      );
      if (m !== undefined) model.openCircuit(m, cmd.expiry, r);
      return;
    }
    case 'close':
    case 'reset': {
      const r = reasonValue(cmd.reason);
      const opts = scopeOpts(cmd.c, cmd.form, withReason(r));
      const call =
        cmd.op === 'close'
          ? () => brama.closeCircuit(id, opts)
          : () => brama.resetCircuit(id, opts);
      expectOutcome(what, attempt(call), notFound);
      if (m !== undefined)
        model.closeCircuit(m, r, cmd.op === 'close' ? 'circuit_closed' : 'circuit_reset');
      return;
    }
    case 'configureConn': {
      const meta = cmd.metadata === null ? {} : { metadata: { tag: cmd.metadata } };
      const opts = scopeOpts(cmd.c, 1, { ...cmd.patch, ...meta }) as object;
      const merged = m === undefined ? {} : merge(m.own, cmd.patch);
      const code =
        notFound ?? (validPatch(cmd.patch) && validPatch(merged) ? null : 'BRAMA_INVALID_OPTION');
      if (code === null && model.reshapes(model.global, cmd.c, merged))
        reached('configure: a filled window reshaped');
      expectOutcome(
        what,
        attempt(() => brama.configure(id, opts)),
        code,
      );
      if (m !== undefined && code === null) {
        m.own = merged;
        if (cmd.metadata !== null) m.metadata = { tag: cmd.metadata };
        model.reshapeAll();
      }
      return;
    }
  }
}

/** Reads every registered connection's status (in slot order) and compares it with the model. */
function compareAll(world: World, context: string): void {
  const { brama, model } = world;
  for (let i = 0; i < CONNS.length; i++) {
    const m = model.conns.get(i);
    if (m === undefined) continue;
    const conn = CONNS[i] as (typeof CONNS)[number];
    model.settle(m);
    const got = attempt(() => brama.status(conn.identifier, { scope: conn.scope }));
    if (!got.ok)
      fail(`${context}: status(${conn.identifier}, ${show(conn.scope)}) threw ${got.code}`);
    compareStatus(
      `${context}: status(${conn.identifier}, ${show(conn.scope)})`,
      got.value,
      model.expectedStatus(m),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Properties

const registerStep: fc.Arbitrary<Step> = fc.record({
  time: fc.constant(null),
  cmd: fc.record({
    op: fc.constant('register' as const),
    c: fc.nat({ max: CONNS.length - 1 }),
    form,
    opts: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, patchArb(true)),
    metadata,
  }),
});

/** A few registrations, then anything: up to `max` steps in all. */
function sequenceArb(max: number): fc.Arbitrary<Step[]> {
  return fc
    .tuple(
      fc.array(registerStep, { minLength: 1, maxLength: 3 }),
      fc.array(stepArb, { maxLength: max - 3, size: 'max' }),
    )
    .map(([registrations, steps]) => [...registrations, ...steps]);
}

/** Features the generated sequences must reach (a generator change must not lose them). */
const FEATURES = [
  'tripped: consecutive_failures',
  'tripped: failure_rate',
  'tripped: failure_rate (by a success)',
  'tripped: slow_call_rate',
  'tripped: slow_call_rate (by a success)',
  'tripped: retry_after',
  'tripped from unknown',
  'slow outcome recorded',
  'count window: an outcome pushed out',
  'time window: outcomes left it',
  'half-open: success below successThreshold',
  'ramp-up started',
  'ramp-up: admitted',
  'ramp-up: refused',
  'ramp-up: ended',
  'ramp-up ended by close/reset',
  'configure: a filled window reshaped',
  'shadow: refused in enforce, let through',
  'invalid report options',
];

describe('Brama against a reference model of PRODUCT §2 and §8', () => {
  it('status, results and errors match the model after every command', () => {
    coverage.clear();
    fc.assert(
      fc.property(startArb, initialArb, seedArb, sequenceArb(60), (start, initial, seed, steps) => {
        const world = createWorld(start, initial, seed);
        try {
          steps.forEach((step, i) => {
            moveTime(world, step.time);
            execute(world, step.cmd);
            const context = `after step ${i} ${describeStep(step)}`;
            compareAll(world, context);
            compareDraws(world, context);
          });
          const listed = world.brama.list().length;
          if (listed !== world.model.conns.size)
            fail(`list() has ${listed}, model ${world.model.conns.size}`);
        } finally {
          void world.brama.close();
        }
      }),
      { numRuns: 4_000 },
    );
    const missed = FEATURES.filter((f) => (coverage.get(f) ?? 0) === 0);
    if (missed.length > 0) fail(`the sequences never reached: ${missed.join('; ')}`);
  });

  it('every state change emits exactly one matching state_change event, in order', () => {
    fc.assert(
      fc.property(startArb, initialArb, seedArb, sequenceArb(40), (start, initial, seed, steps) => {
        const world = createWorld(start, initial, seed);
        const { brama, model } = world;
        const events: BramaEvent[] = [];
        brama.subscribe((e) => events.push(e));
        /** The state each registered slot was last seen in. */
        const seen = new Map<number, State>();
        try {
          steps.forEach((step, i) => {
            const context = `step ${i} ${describeStep(step)}`;
            events.length = 0;
            model.events.length = 0;
            moveTime(world, step.time);
            execute(world, step.cmd);
            compareAll(world, context);
            compareDraws(world, context);
            // `list` and `cleanup` settle every connection in the store's own order, which the
            // spec leaves open: there only the order per connection is compared.
            const perConnection = step.cmd.op === 'list' || step.cmd.op === 'cleanup';
            checkAgainstModel(
              context,
              perConnection ? byConnection(events) : events,
              perConnection ? byConnection(model.events) : model.events,
            );
            checkChains(context, events, model, seen);
          });
        } finally {
          void brama.close();
        }
      }),
      { numRuns: 800 },
    );
  });
});

/** Events grouped by connection (slot order, registry-wide ones last), each group in order. */
function byConnection<E extends { identifier: string | null; scope: string | null }>(
  events: readonly E[],
): E[] {
  const rank = (e: E): number => {
    const i = CONNS.findIndex((c) => c.identifier === e.identifier && c.scope === e.scope);
    return i === -1 ? CONNS.length : i;
  };
  return [...events].sort((x, y) => rank(x) - rank(y)); // stable
}

/** The emitted events are exactly the model's, in order, with consistent data. */
function checkAgainstModel(
  context: string,
  got: readonly BramaEvent[],
  want: readonly MEvent[],
): void {
  const brief = (e: {
    type: string;
    from?: unknown;
    to?: unknown;
    identifier: string | null;
    scope: string | null;
  }): string =>
    `${e.type}(${e.identifier ?? '-'}/${e.scope ?? '-'}${e.from === undefined ? '' : ` ${show(e.from)}->${show(e.to)}`})`;
  const gotBrief = got.map((e) => {
    const data = e.data as { from?: unknown; to?: unknown };
    return brief({
      type: e.type,
      identifier: e.identifier,
      scope: e.scope,
      from: data.from,
      to: data.to,
    });
  });
  const wantBrief = want.map(brief);
  if (gotBrief.join(' ') !== wantBrief.join(' ')) {
    fail(`${context}: events\n  got  ${gotBrief.join(' ')}\n  want ${wantBrief.join(' ')}`);
  }
  got.forEach((e, i) => {
    const w = want[i] as MEvent;
    if (e.timestamp !== w.timestamp)
      fail(`${context}: ${e.type} at ${e.timestamp}, expected ${w.timestamp}`);
    if (w.reason !== undefined) {
      const r = (e.data as { reason?: unknown }).reason;
      if (!Object.is(r, w.reason))
        fail(`${context}: ${e.type} reason ${show(r)}, expected ${show(w.reason)}`);
    }
    if (w.trip !== undefined) {
      const trip = (e.data as { trip?: unknown }).trip;
      if (!sameTrip(trip, w.trip))
        fail(`${context}: ${e.type} trip ${show(trip)}, expected ${show(w.trip)}`);
    }
  });
}

/** Whether an event's `data.trip` is the expected one (key order aside). */
function sameTrip(got: unknown, want: ExpectedTrip): boolean {
  if (want === 'trial') want = { rule: 'failed_trial' };
  if (want === null || typeof got !== 'object' || got === null) return got === want;
  const g = got as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  const keys = Object.keys(w);
  return Object.keys(g).length === keys.length && keys.every((k) => Object.is(g[k], w[k]));
}

/**
 * Independently of the model: per connection, the `state_change` events of a step chain the state
 * seen before it to the state `status` shows after it (none when it did not move), and each one
 * carries a snapshot in its `to` state.
 */
function checkChains(
  context: string,
  events: readonly BramaEvent[],
  model: Model,
  seen: Map<number, State>,
): void {
  for (let i = 0; i < CONNS.length; i++) {
    const conn = CONNS[i] as (typeof CONNS)[number];
    const mine = events.filter((e) => e.identifier === conn.identifier && e.scope === conn.scope);
    const registered = mine.some((e) => e.type === 'registration');
    let state: State | undefined = registered ? 'unknown' : seen.get(i);
    const fromIndex = registered ? mine.findIndex((e) => e.type === 'registration') : 0;
    for (const e of mine.slice(fromIndex)) {
      if (e.type === 'connection_unregistered') state = undefined;
      if (e.type !== 'state_change') continue;
      const { from, to, status } = e.data;
      if (from === to) fail(`${context}: state_change ${from} -> ${to}`);
      if (state !== from)
        fail(`${context}: state_change from ${from}, but the state was ${show(state)}`);
      if (status.state !== to)
        fail(`${context}: state_change to ${to} carries a ${status.state} snapshot`);
      state = to;
    }
    const m = model.conns.get(i);
    if (m === undefined) {
      seen.delete(i);
      continue;
    }
    // compareAll has just read this connection's status, which equals the model's state.
    if (state !== m.state) fail(`${context}: events end in ${show(state)}, status says ${m.state}`);
    seen.set(i, m.state);
  }
}
