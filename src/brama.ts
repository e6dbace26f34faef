import { checkIdentifier, normalizeScope, readOptions } from './core/arguments.js';
import { OUTCOME_INDEX } from './core/call-meter.js';
import { systemClock } from './core/clock.js';
import { invalidArgument } from './core/errors.js';
import { checkCircuitOption, NO_OPTIONS, pickCircuitOptions } from './core/settings.js';
import type { ConnectionStatus } from './core/status.js';
import { RegistryGate } from './call-gate.js';
import { criticalPredicate, rollUp, type HealthOptions, type HealthReport } from './health.js';
import type { BramaEventType, EventFilter, EventHandler, Subscription } from './events/types.js';
import { INTERNALS, type BramaInternals } from './internals.js';
import { meterHook } from './metering.js';
import {
  ACTION_KEYS,
  CONNECTION_KEYS,
  FAILURE_KEYS,
  NO_METADATA,
  OPEN_KEYS,
  readDetails,
  readMetadata,
  readReason,
  SCOPE_KEYS,
  SUCCESS_KEYS,
  type ActionOptions,
  type ConnectionOptions,
  type FailureOptions,
  type ListFilter,
  type OpenOptions,
  type ScopeOptions,
  type SuccessOptions,
} from './method-options.js';
import { NO_DETAILS } from './stores/store.js';
import {
  DEFAULT_REGISTRY_SETTINGS,
  parseOptions,
  type BramaOptions,
  type GlobalConfigureOptions,
  type RegistrySettings,
} from './options.js';
import { Registry } from './registry.js';
import { MemoryStore } from './stores/memory-store.js';
import { SweepTimer, sweep } from './sweep-timer.js';
import type { CallOptions, RefusalCallOptions } from './wrap/call-options.js';
import { runCall, wrapCall } from './wrap/protect.js';

/**
 * A registry of monitored connections, each with its own circuit breaker. Independent
 * instances share nothing unless they share a store.
 */
export class Brama {
  private readonly r: Registry;
  private readonly gate: RegistryGate;
  private readonly sweeper: SweepTimer;
  private settings: RegistrySettings;

  constructor(options?: BramaOptions) {
    const parsed = parseOptions(options, 'construct');
    const r = new Registry(
      parsed.clock ?? systemClock,
      parsed.store ?? new MemoryStore(),
      parsed.circuit,
    );
    this.r = r;
    this.gate = new RegistryGate(r, (identifier, opts) => this.register(identifier, opts));
    this.settings = Object.freeze({ ...DEFAULT_REGISTRY_SETTINGS, ...parsed.registry });
    if (parsed.onListenerError) r.bus.onListenerError = parsed.onListenerError;
    if (parsed.random) r.randomSource = parsed.random;
    r.store.attach(r);
    this.sweeper = new SweepTimer(() => this.cleanup());
    this.sweeper.schedule(this.settings.cleanupInterval);
  }

  /** Registers a connection (state `'unknown'`); throws `BRAMA_ALREADY_REGISTERED` if it exists. */
  register(identifier: string, opts?: ConnectionOptions): ConnectionStatus {
    this.r.ensureOpen();
    checkIdentifier(identifier);
    if (opts === undefined) return this.r.add(identifier, null, NO_OPTIONS, NO_METADATA);
    const o = readOptions(opts, 'register options', CONNECTION_KEYS);
    const scope = normalizeScope(o.scope);
    const metadata = readMetadata(o.metadata);
    return this.r.add(identifier, scope, pickCircuitOptions(o), metadata);
  }

  /** Removes a connection; returns whether it was registered. */
  unregister(identifier: string, opts?: ScopeOptions): boolean {
    const record = this.r.find(identifier, opts, SCOPE_KEYS, 'unregister options');
    if (record === undefined || !this.r.store.remove(record, 'unregister')) return false;
    record.removed = true;
    if (this.r.bus.wants('connection_unregistered')) {
      const now = this.r.clock.now();
      this.r.events.send('connection_unregistered', record, now, {
        status: this.r.snapshot(record, now),
      });
    }
    return true;
  }

  /**
   * May a call to this connection go ahead now? `true` while unknown or closed, `false` while
   * open and for unregistered connections. While half-open, a `true` answer *takes* one of the
   * `halfOpenProbes` trial slots: the caller is expected to make the call and report it. To
   * look without taking a slot (a health check), use {@link wouldAdmit}.
   */
  isAvailable(identifier: string, opts?: ScopeOptions): boolean {
    const record = this.r.find(identifier, opts, SCOPE_KEYS, 'isAvailable options');
    if (record === undefined) return false;
    if (this.r.store.admit(record)) return true;
    if (this.r.metering !== null) this.r.metering.count(record, REJECTED);
    return false;
  }

  /**
   * Would a call be admitted now? The answer of {@link isAvailable} without its effect: no
   * half-open trial slot is taken. Like `status`, it applies the lazy open → half-open change
   * once the open period has elapsed (and emits its events). `false` for unregistered
   * connections. In fleet mode it follows the degraded policy, and in half-open it says `true`
   * only while this process holds a trial slot it could hand to a call.
   */
  wouldAdmit(identifier: string, opts?: ScopeOptions): boolean {
    const record = this.r.find(identifier, opts, SCOPE_KEYS, 'wouldAdmit options');
    return record !== undefined && this.r.wouldAdmit(record);
  }

  /** Reports a successful call, optionally with how long it took (`durationMs`). */
  success(identifier: string, opts?: SuccessOptions): void {
    const record = this.r.get(identifier, opts, SUCCESS_KEYS, 'success options');
    const details = opts === undefined ? NO_DETAILS : readDetails(opts);
    this.r.store.report(record, 'success', this.gate.successTime(record), null, details);
    if (this.r.metering !== null) this.r.metering.count(record, SUCCESS);
  }

  /**
   * Reports a failed call, optionally with its reason, how long it took (`durationMs`) and a
   * pause the dependency asked for (`retryAfterMs`: opens the circuit for exactly that long).
   */
  failure(identifier: string, opts?: FailureOptions): void {
    const record = this.r.get(identifier, opts, FAILURE_KEYS, 'failure options');
    const reason = readReason(opts?.reason);
    const details = opts === undefined ? NO_DETAILS : readDetails(opts);
    this.r.store.report(record, 'failure', this.r.clock.now(), reason, details);
    if (this.r.metering !== null) this.r.metering.count(record, FAILURE);
  }

  /** A snapshot of one connection; throws `BRAMA_NOT_FOUND`. Never consumes a half-open trial. */
  status(identifier: string, opts?: ScopeOptions): ConnectionStatus {
    const record = this.r.get(identifier, opts, SCOPE_KEYS, 'status options');
    const now = this.r.clock.now();
    this.r.store.settle(record, now);
    return this.r.snapshot(record, now);
  }

  /** Snapshots of every connection, or of one scope's. */
  list(filter?: ListFilter): ConnectionStatus[] {
    this.r.ensureOpen();
    const o = readOptions(filter, 'list filter', SCOPE_KEYS);
    return this.r.list(o.scope === undefined ? undefined : normalizeScope(o.scope));
  }

  /**
   * A roll-up for readiness probes: `down` when a critical connection (`critical`: identifiers
   * or a predicate on the status; default none) is open or half-open, `degraded` when any
   * connection is or the store is degraded, else `ok`; with each connection's state.
   */
  health(opts?: HealthOptions): HealthReport {
    this.r.ensureOpen();
    const o = readOptions(opts, 'health options', HEALTH_KEYS);
    const isCritical = criticalPredicate(o.critical);
    const scope = o.scope === undefined ? undefined : normalizeScope(o.scope);
    return rollUp(this.r.list(scope), isCritical, this.r.storeDegraded);
  }

  /** Opens the circuit now; `expiry` (ms) applies to this opening only. */
  openCircuit(identifier: string, opts?: OpenOptions): void {
    const record = this.r.get(identifier, opts, OPEN_KEYS, 'openCircuit options');
    const reason = readReason(opts?.reason);
    const expiry = opts?.expiry;
    if (expiry !== undefined) checkCircuitOption('expiry', expiry);
    this.r.store.act(record, 'open', this.r.clock.now(), reason, expiry ?? null);
  }

  /** Closes the circuit and zeroes the consecutive failure count. */
  closeCircuit(identifier: string, opts?: ActionOptions): void {
    const record = this.r.get(identifier, opts, ACTION_KEYS, 'closeCircuit options');
    this.r.store.act(record, 'close', this.r.clock.now(), readReason(opts?.reason), null);
  }

  /** Back to `'closed'` with consecutive count and progressive backoff reset (totals kept). */
  resetCircuit(identifier: string, opts?: ActionOptions): void {
    const record = this.r.get(identifier, opts, ACTION_KEYS, 'resetCircuit options');
    this.r.store.act(record, 'reset', this.r.clock.now(), readReason(opts?.reason), null);
  }

  /** Changes the global configuration (connections follow it where they have no own setting). */
  configure(options: GlobalConfigureOptions): void;
  /** Patches one connection's settings: only the keys given; `undefined` restores inheritance. */
  configure(identifier: string, options: ConnectionOptions): void;
  configure(target: unknown, options?: unknown): void {
    this.r.ensureOpen();
    if (typeof target === 'string') return this.r.reconfigure(target, options);
    if (typeof target !== 'object' || target === null || options !== undefined) {
      throw invalidArgument('configure arguments', '(options) or (identifier, options)', target);
    }
    const parsed = parseOptions(target, 'configure');
    this.r.configure(parsed.circuit);
    if (parsed.onListenerError) this.r.bus.onListenerError = parsed.onListenerError;
    if (parsed.random) this.r.randomSource = parsed.random;
    const before = this.settings.cleanupInterval;
    this.settings = Object.freeze({ ...this.settings, ...parsed.registry });
    if (this.settings.cleanupInterval !== before)
      this.sweeper.schedule(this.settings.cleanupInterval);
  }

  /**
   * Runs `fn` under the connection's circuit (registering it with `opts` on first use). Refused
   * while open: `fn` is not called and the promise rejects with `CircuitOpenError` (or resolves
   * with `opts.fallback(error)`). `fn` receives an AbortSignal that aborts on `opts.timeout` or
   * when `opts.signal` aborts. Fulfilled: counted by `opts.classify` (default: success). Thrown
   * or rejected: counted as a failure (unless `opts.isFailure` says no) and re-thrown unchanged
   * (or replaced by `opts.fallback(error)` with `fallbackOn: 'failure' | 'both'`). An options
   * object is validated once and reused while its values stay the same.
   */
  run<T, F = never>(
    identifier: string,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    opts?: RefusalCallOptions<T, [], F>,
  ): Promise<T | F>;
  /** `run` with any options, e.g. a `fallback` for failures too (`fallbackOn: 'failure' | 'both'`). */
  run<T, F = never>(
    identifier: string,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    opts?: CallOptions<T, [], F>,
  ): Promise<T | F>;
  run<T>(
    identifier: string,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    opts?: unknown,
  ): Promise<unknown> {
    return runCall(this.gate, identifier, fn, opts);
  }

  /**
   * Returns `fn` protected by the connection's circuit: same parameters, same (awaited) result
   * (or the fallback's), `this` passed through. Takes the options of `run`, read once, now;
   * `fallback` also receives the arguments.
   */
  wrap<Args extends unknown[], R, F = never>(
    identifier: string,
    fn: (...args: Args) => R,
    opts?: RefusalCallOptions<R, Args, F>,
  ): (...args: Args) => Promise<Awaited<R> | Awaited<F>>;
  /** `wrap` with any options, e.g. a `fallback` for failures too (`fallbackOn: 'failure' | 'both'`). */
  wrap<Args extends unknown[], R, F = never>(
    identifier: string,
    fn: (...args: Args) => R,
    opts?: CallOptions<R, Args, F>,
  ): (...args: Args) => Promise<Awaited<R> | Awaited<F>>;
  wrap<Args extends unknown[]>(
    identifier: string,
    fn: (...args: Args) => unknown,
    opts?: unknown,
  ): (...args: Args) => Promise<unknown> {
    this.r.ensureOpen();
    return wrapCall(this.gate, identifier, fn, opts);
  }

  /**
   * Subscribes to events; the filter's keys are ANDed. With `events: [...]`, the handler sees
   * only those event types.
   */
  subscribe<K extends BramaEventType = BramaEventType>(
    handler: EventHandler<K>,
    filter?: EventFilter<K>,
  ): Subscription {
    this.r.ensureOpen();
    return this.r.bus.subscribe(handler, filter);
  }

  /**
   * Runs one sweep now: moves expired open circuits to half-open and removes connections
   * inactive for `inactiveThreshold` ms. Returns how many were removed.
   */
  cleanup(): number {
    this.r.ensureOpen();
    return sweep(this.r, this.settings.inactiveThreshold);
  }

  /** Stops the sweep timer, drops listeners and releases the store. Idempotent. */
  close(): Promise<void> {
    if (this.r.closing !== null) return this.r.closing;
    this.sweeper.stop();
    this.r.bus.clear();
    this.r.closing = this.r.store.close();
    return this.r.closing;
  }

  /** @internal Hooks for `brama/testing` (not part of the public API). */
  [INTERNALS](): BramaInternals {
    return {
      force: (identifier, state, opts) => {
        const record = this.r.get(identifier, opts, SCOPE_KEYS, 'setState options');
        this.r.store.act(record, `force_${state}`, this.r.clock.now(), null, null);
      },
      attachMeter: (onDuration) => meterHook(this.r, onDuration),
    };
  }
}

const HEALTH_KEYS: ReadonlySet<string> = new Set(['scope', 'critical']);
const { success: SUCCESS, failure: FAILURE, rejected: REJECTED } = OUTCOME_INDEX;

export type {
  ActionOptions,
  ConnectionOptions,
  FailureOptions,
  ListFilter,
  OpenOptions,
  ScopeOptions,
  SuccessOptions,
};
