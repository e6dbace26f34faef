/**
 * Model-based property tests of `Brama` against PRODUCT.md §2.
 *
 * Random command sequences run against a real `Brama` (on a `ManualClock`) and against the small
 * reference model below, which re-states the spec on its own (it imports nothing from
 * `src/core`). After every command, every registered connection's `status` must equal the model's
 * view of it, and errors must match. The second property checks that the emitted events agree with
 * the state changes (one `state_change` per transition, with matching `from`/`to`, in order).
 *
 * Where the spec is silent the model follows brama's documented choices:
 * - a failure in `'unknown'` moves to `'closed'` with count 1 (or straight to `'open'` when
 *   `maxAttempts` is 1);
 * - a lazily observed half-open has `lastStateChangeAt` = the moment the open period elapsed;
 * - manual close/reset of an already closed circuit keep `lastStateChangeAt`;
 * - any close resets the consecutive-opening counter; a manual open of a circuit that is not
 *   open counts as a consecutive opening, re-opening an open one does not (it restarts the
 *   period with the same n);
 * - a manual open keeps the consecutive failure count; a report while open changes neither the
 *   count nor the state;
 * - half-open trial slots are judged with the *current* `probeTimeout` and `halfOpenProbes`, and
 *   slots whose time is up are discarded when a new trial is admitted;
 * - option validation: a value out of range, or `maxExpiry < initialExpiry` given together (in the
 *   constructor, a global configure, a register, or a connection's merged own options) throws
 *   `BRAMA_INVALID_OPTION` and changes nothing; validation comes before the
 *   `BRAMA_ALREADY_REGISTERED` check, the `BRAMA_NOT_FOUND` check before validation.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Brama, isBramaError, type BramaEvent } from './index.js';
import { ManualClock } from './testing/index.js';

// ---------------------------------------------------------------------------------------------
// Settings

type Key =
  | 'maxAttempts'
  | 'expiry'
  | 'expiryStrategy'
  | 'initialExpiry'
  | 'maxExpiry'
  | 'backoffFactor'
  | 'halfOpenProbes'
  | 'probeTimeout';

const KEYS: readonly Key[] = [
  'maxAttempts',
  'expiry',
  'expiryStrategy',
  'initialExpiry',
  'maxExpiry',
  'backoffFactor',
  'halfOpenProbes',
  'probeTimeout',
];

type Strategy = 'fixed' | 'progressive';

interface Settings {
  maxAttempts: number;
  expiry: number;
  expiryStrategy: Strategy;
  initialExpiry: number;
  maxExpiry: number;
  backoffFactor: number;
  halfOpenProbes: number;
  probeTimeout: number;
}

/** Options as a user passes them (values may be invalid on purpose, or `undefined`). */
type Patch = Partial<Record<Key, unknown>>;

const isInt1 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isMs = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** The spec's ranges (§2 table). */
function validValue(key: Key, v: unknown): boolean {
  switch (key) {
    case 'maxAttempts':
    case 'halfOpenProbes':
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
  }
}

/** Whether a set of options given together is acceptable. */
function validPatch(p: Patch): boolean {
  for (const key of KEYS) {
    if (p[key] !== undefined && !validValue(key, p[key])) return false;
  }
  const { initialExpiry, maxExpiry } = p;
  return !(
    typeof initialExpiry === 'number' &&
    typeof maxExpiry === 'number' &&
    maxExpiry < initialExpiry
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

function num(p: Patch, key: Key): number | undefined {
  const v = p[key];
  return typeof v === 'number' ? v : undefined;
}

/** Effective settings: own, then global, then defaults (§2 table). */
function resolve(global: Patch, own: Patch): Settings {
  const pickNum = (key: Key): number | undefined => num(own, key) ?? num(global, key);
  const expiry = pickNum('expiry') ?? 60_000;
  const strategy = (own.expiryStrategy ?? global.expiryStrategy ?? 'fixed') as Strategy;
  return {
    maxAttempts: pickNum('maxAttempts') ?? 5,
    expiry,
    expiryStrategy: strategy,
    initialExpiry: pickNum('initialExpiry') ?? expiry,
    maxExpiry: pickNum('maxExpiry') ?? 10 * expiry,
    backoffFactor: pickNum('backoffFactor') ?? 2,
    halfOpenProbes: pickNum('halfOpenProbes') ?? 1,
    probeTimeout: pickNum('probeTimeout') ?? 30_000,
  };
}

// ---------------------------------------------------------------------------------------------
// The reference model

type State = 'unknown' | 'closed' | 'open' | 'half_open';

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
}

type Specific = 'circuit_opened' | 'circuit_half_opened' | 'circuit_closed' | 'circuit_reset';

class Model {
  global: Patch;
  readonly conns = new Map<number, MConn>();
  readonly events: MEvent[] = [];

  constructor(
    public now: number,
    global: Patch,
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
  private transition(c: MConn, from: State, reason: unknown, specific: Specific | null): void {
    const to = c.state;
    if (from !== to) this.emit(c, 'state_change', { from, to, reason });
    if (specific !== null) this.emit(c, specific, { from, to, reason });
  }

  /** Lazy expiry: open whose period has elapsed is half-open since that moment. */
  settle(c: MConn): void {
    if (c.state !== 'open' || c.openUntil === null || this.now < c.openUntil) return;
    c.state = 'half_open';
    c.changedAt = c.openUntil;
    c.openUntil = null;
    c.trials = [];
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
  }

  private close(c: MConn): void {
    if (c.state !== 'closed') c.changedAt = this.now;
    c.state = 'closed';
    c.failureCount = 0;
    c.openings = 0;
    c.openUntil = null;
    c.trials = [];
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
    };
    this.conns.set(slot, c);
    this.emit(c, 'registration');
  }

  unregister(slot: number): void {
    const c = this.conns.get(slot);
    if (c === undefined) return;
    this.conns.delete(slot);
    this.emit(c, 'connection_unregistered');
  }

  isAvailable(c: MConn): boolean {
    this.settle(c);
    switch (c.state) {
      case 'unknown':
      case 'closed':
        return true;
      case 'open':
        return false;
      case 'half_open': {
        const s = this.settings(c);
        const live = c.trials.filter((at) => this.now - at < s.probeTimeout);
        if (live.length >= s.halfOpenProbes) return false;
        c.trials = [...live, this.now];
        return true;
      }
    }
  }

  success(c: MConn): void {
    this.settle(c);
    const from = c.state;
    c.totalSuccesses += 1;
    c.lastSuccessTime = this.now;
    switch (from) {
      case 'open': // a call that started before the trip: totals only
        break;
      case 'closed':
        c.failureCount = 0;
        break;
      case 'unknown':
      case 'half_open':
        this.close(c);
        break;
    }
    this.emit(c, 'success');
    this.transition(c, from, null, from === 'half_open' ? 'circuit_closed' : null);
  }

  failure(c: MConn, reason: unknown): void {
    this.settle(c);
    const from = c.state;
    c.totalFailures += 1;
    c.lastFailureTime = this.now;
    c.lastFailureReason =
      typeof reason === 'string' ? reason : reason instanceof Error ? String(reason) : null;
    switch (from) {
      case 'open': // totals only: neither extends nor ends the open period
        break;
      case 'unknown':
      case 'closed':
        c.failureCount += 1;
        if (c.failureCount >= this.settings(c).maxAttempts) this.open(c, null);
        else if (from === 'unknown') {
          c.state = 'closed';
          c.changedAt = this.now;
        }
        break;
      case 'half_open':
        c.failureCount += 1;
        this.open(c, null);
        break;
    }
    this.emit(c, 'failure', { reason: reason ?? null });
    this.transition(
      c,
      from,
      reason ?? null,
      c.state === 'open' && from !== 'open' ? 'circuit_opened' : null,
    );
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
    this.close(c);
    this.transition(c, from, reason ?? null, kind);
  }

  cleanup(): void {
    for (const c of this.conns.values()) this.settle(c);
    this.emit(null, 'cleanup');
  }

  /** Future moments at which something time-driven happens (ends of open periods, trials). */
  boundaries(): number[] {
    const out: number[] = [];
    for (const c of this.conns.values()) {
      if (c.state === 'open' && c.openUntil !== null) out.push(c.openUntil);
      if (c.state === 'half_open') {
        const timeout = this.settings(c).probeTimeout;
        for (const at of c.trials) out.push(at + timeout);
      }
    }
    return [...new Set(out.filter((t) => t >= this.now))].sort((a, b) => a - b);
  }

  expectedStatus(c: MConn): Record<string, unknown> {
    const outcomes = c.totalFailures + c.totalSuccesses;
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
      ...this.settings(c),
      // Trip policies (PRODUCT §8) keep their defaults in these sequences.
      tripPolicy: 'consecutive',
      failureRateThreshold: 0.5,
      slowCallMs: null,
      slowCallRateThreshold: 1,
      window: { calls: 100 },
      minimumCalls: 10,
      successThreshold: 1,
      rampUpMs: 0,
      mode: 'enforce',
      failureRate: null,
      slowCallRate: null,
      windowCalls: 0,
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

type Cmd =
  | { op: 'register'; c: number; form: number; opts: Patch; metadata: number | null }
  | { op: 'unregister' | 'success' | 'status'; c: number; form: number }
  | { op: 'isAvailable'; c: number; form: number; times: number }
  | { op: 'failure' | 'close' | 'reset'; c: number; form: number; reason: number }
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

const VALID: Record<Key, fc.Arbitrary<unknown>> = {
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  expiry: fc.constantFrom(1, 10, 100, 250, 1000),
  expiryStrategy: fc.constantFrom('fixed', 'progressive'),
  initialExpiry: fc.constantFrom(1, 10, 50, 100, 400),
  maxExpiry: fc.constantFrom(10, 100, 300, 1000, 5000),
  backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
  halfOpenProbes: fc.integer({ min: 1, max: 3 }),
  probeTimeout: fc.constantFrom(1, 10, 50, 100, 500),
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
  // Mostly consistent bounds (maxExpiry >= initialExpiry), sometimes a conflict or a bad value.
  return fc
    .tuple(record, fc.nat({ max: 5 }), fc.option(invalidEntry, { freq: 12 }))
    .map(([p, dice, bad]) => {
      const out = dice === 0 ? p : consistent(p); // 1 in 6 keeps a conflict
      return bad === null ? out : { ...out, [bad.key]: bad.value };
    });
}

/** Swaps `initialExpiry` and `maxExpiry` when both are given and conflict. */
function consistent(p: Patch): Patch {
  const { initialExpiry, maxExpiry } = p;
  if (typeof initialExpiry !== 'number' || typeof maxExpiry !== 'number') return p;
  if (maxExpiry >= initialExpiry) return p;
  return { ...p, initialExpiry: maxExpiry, maxExpiry: initialExpiry };
}

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
  { weight: 4, arbitrary: fc.record({ op: fc.constant('success' as const), c: slot, form }) },
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('failure' as const), c: slot, form, reason }),
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

/** Constructor options: valid global settings (a few keys). */
const initialArb: fc.Arbitrary<Patch> = fc
  .record(VALID, { requiredKeys: [] })
  .map((p: Patch) => (validPatch(p) ? p : { ...p, maxExpiry: undefined }));

const startArb = fc.constantFrom(0, 1_000, 1_700_000_000_000);

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
}

function createWorld(start: number, initial: Patch): World {
  const clock = new ManualClock(start);
  const brama = new Brama({ ...(initial as object), clock, cleanupInterval: 0 });
  return { brama, clock, model: new Model(start, initial) };
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

/** Runs one command against both sides, comparing results and errors. */
function execute(world: World, cmd: Cmd): void {
  const { brama, model } = world;
  const what = JSON.stringify(cmd);
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
    expectOutcome(
      what,
      attempt(() => brama.configure(cmd.patch as object)),
      ok ? null : 'BRAMA_INVALID_OPTION',
    );
    if (ok) model.global = merge(model.global, cmd.patch);
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
    case 'success':
      expectOutcome(
        what,
        attempt(() => brama.success(id, scopeOpts(cmd.c, cmd.form))),
        notFound,
      );
      if (m !== undefined) model.success(m);
      return;
    case 'failure': {
      const r = reasonValue(cmd.reason);
      const opts = scopeOpts(cmd.c, cmd.form, withReason(r));
      expectOutcome(
        what,
        attempt(() => brama.failure(id, opts)),
        notFound,
      );
      if (m !== undefined) model.failure(m, r);
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
      expectOutcome(
        what,
        attempt(() => brama.configure(id, opts)),
        code,
      );
      if (m !== undefined && code === null) {
        m.own = merged;
        if (cmd.metadata !== null) m.metadata = { tag: cmd.metadata };
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

describe('Brama against a reference model of PRODUCT §2', () => {
  it('status, results and errors match the model after every command', () => {
    fc.assert(
      fc.property(startArb, initialArb, sequenceArb(60), (start, initial, steps) => {
        const world = createWorld(start, initial);
        try {
          steps.forEach((step, i) => {
            moveTime(world, step.time);
            execute(world, step.cmd);
            compareAll(world, `after step ${i} ${JSON.stringify(step)}`);
          });
          const listed = world.brama.list().length;
          if (listed !== world.model.conns.size)
            fail(`list() has ${listed}, model ${world.model.conns.size}`);
        } finally {
          void world.brama.close();
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('every state change emits exactly one matching state_change event, in order', () => {
    fc.assert(
      fc.property(startArb, initialArb, sequenceArb(40), (start, initial, steps) => {
        const world = createWorld(start, initial);
        const { brama, model } = world;
        const events: BramaEvent[] = [];
        brama.subscribe((e) => events.push(e));
        /** The state each registered slot was last seen in. */
        const seen = new Map<number, State>();
        try {
          steps.forEach((step, i) => {
            const context = `step ${i} ${JSON.stringify(step)}`;
            events.length = 0;
            model.events.length = 0;
            moveTime(world, step.time);
            execute(world, step.cmd);
            compareAll(world, context);
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
      { numRuns: 300 },
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
  });
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
