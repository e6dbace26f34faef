import { checkIdentifier, connectionName, normalizeScope, readOptions } from './core/arguments.js';
import { systemClock, type Clock } from './core/clock.js';
import { BramaError, invalidArgument, storeUnavailable } from './core/errors.js';
import { createRecord, type ConnectionRecord } from './core/record.js';
import {
  CIRCUIT_OPTION_KEYS,
  checkCircuitOption,
  mergeCircuitOptions,
  NO_OPTIONS,
  pickCircuitOptions,
  resolveSettings,
  type CircuitOptions,
  type CircuitSettings,
} from './core/settings.js';
import type { CircuitState } from './core/state.js';
import { toStatus, type ConnectionStatus } from './core/status.js';
import { emitChange } from './emit-change.js';
import { EventBus } from './events/event-bus.js';
import type {
  BramaEvent,
  BramaEventDataMap,
  BramaEventType,
  EventFilter,
  EventHandler,
  Subscription,
} from './events/types.js';
import { INTERNALS, type BramaInternals } from './internals.js';
import {
  DEFAULT_REGISTRY_SETTINGS,
  parseOptions,
  type BramaOptions,
  type GlobalConfigureOptions,
  type RegistrySettings,
} from './options.js';
import { SweepTimer } from './sweep-timer.js';
import {
  closedError,
  readMetadata,
  readReason,
  type ActionOptions,
  type ConnectionOptions,
  type FailureOptions,
  type ListFilter,
  type OpenOptions,
  type ScopeOptions,
} from './method-options.js';
import { CircuitOpenError } from './core/circuit-open-error.js';
import { retryAfter } from './core/transitions.js';
import { parseCallOptions, type CallOptions } from './wrap/call-options.js';
import { execute } from './wrap/execute.js';
import type { CallGate } from './wrap/gate.js';
import { MemoryStore } from './stores/memory-store.js';
import type {
  ChangeKind,
  ConnectionStore,
  ManualAction,
  Outcome,
  StoreHost,
} from './stores/store.js';

const NO_ARGS: readonly unknown[] = Object.freeze([]);
const SCOPE_KEYS: ReadonlySet<string> = new Set(['scope']);
const FAILURE_KEYS: ReadonlySet<string> = new Set(['scope', 'reason']);
const OPEN_KEYS: ReadonlySet<string> = new Set(['scope', 'reason', 'expiry']);
const CONNECTION_KEYS: ReadonlySet<string> = new Set(['scope', 'metadata', ...CIRCUIT_OPTION_KEYS]);

/**
 * A registry of monitored connections, each with its own circuit breaker. Independent
 * instances share nothing unless they share a store.
 */
export class Brama {
  private readonly clock: Clock;
  private readonly store: ConnectionStore;
  private readonly bus = new EventBus();
  private readonly sweeper: SweepTimer;
  private globalOptions: CircuitOptions;
  private registry: RegistrySettings;
  /** Bumped by every global configure; invalidates the records' cached settings. */
  private configVersion = 0;
  private closing: Promise<void> | null = null;
  private readonly gate: CallGate;
  private inherited: { readonly version: number; readonly settings: CircuitSettings } | null = null;

  constructor(options?: BramaOptions) {
    const parsed = parseOptions(options, 'construct');
    this.clock = parsed.clock ?? systemClock;
    this.store = parsed.store ?? new MemoryStore();
    this.globalOptions = parsed.circuit;
    this.registry = Object.freeze({ ...DEFAULT_REGISTRY_SETTINGS, ...parsed.registry });
    if (parsed.onListenerError) this.bus.onListenerError = parsed.onListenerError;
    const host: StoreHost = {
      clock: this.clock,
      settingsOf: (record) => this.settingsOf(record),
      committed: (record, kind, from, reason, origin) =>
        this.committed(record, kind, from, reason, origin),
      degraded: (isDegraded, detail) => this.storeHealth(isDegraded, detail),
    };
    this.store.attach(host);
    this.gate = {
      clock: this.clock,
      enter: (identifier, scope, registration) => this.enter(identifier, scope, registration),
      leave: (record, outcome, reason, trial) => this.leave(record, outcome, reason, trial),
    };
    this.sweeper = new SweepTimer(() => this.cleanup());
    this.sweeper.schedule(this.registry.cleanupInterval);
  }

  /** Registers a connection (state `'unknown'`); throws `BRAMA_ALREADY_REGISTERED` if it exists. */
  register(identifier: string, opts?: ConnectionOptions): ConnectionStatus {
    this.ensureOpen();
    checkIdentifier(identifier);
    const o = readOptions(opts, 'register options', CONNECTION_KEYS);
    const scope = normalizeScope(o.scope);
    const metadata = readMetadata(o.metadata);
    const own = pickCircuitOptions(o);
    if (this.store.get(identifier, scope) !== undefined) {
      throw new BramaError(
        'BRAMA_ALREADY_REGISTERED',
        `Connection ${connectionName(identifier, scope)} is already registered`,
      );
    }
    const now = this.clock.now();
    const record = createRecord(identifier, scope, own, metadata, now);
    this.store.insert(record);
    const status = toStatus(record, this.settingsOf(record), now);
    this.send('registration', record, now, { status });
    return status;
  }

  /** Removes a connection; returns whether it was registered. */
  unregister(identifier: string, opts?: ScopeOptions): boolean {
    const record = this.find(identifier, opts, SCOPE_KEYS, 'unregister options');
    if (record === undefined || !this.store.remove(record, 'unregister')) return false;
    record.removed = true;
    if (this.bus.wants('connection_unregistered')) {
      const now = this.clock.now();
      this.send('connection_unregistered', record, now, { status: this.snapshot(record, now) });
    }
    return true;
  }

  /**
   * May a call to this connection go ahead now? `true` while unknown or closed, `false` while
   * open and for unregistered connections; half-open admits at most `halfOpenProbes` trials.
   */
  isAvailable(identifier: string, opts?: ScopeOptions): boolean {
    const record = this.find(identifier, opts, SCOPE_KEYS, 'isAvailable options');
    return record !== undefined && this.store.admit(record);
  }

  /** Reports a successful call. */
  success(identifier: string, opts?: ScopeOptions): void {
    const record = this.get(identifier, opts, SCOPE_KEYS, 'success options');
    this.store.report(record, 'success', this.clock.now(), null);
  }

  /** Reports a failed call, optionally with its reason. */
  failure(identifier: string, opts?: FailureOptions): void {
    const record = this.get(identifier, opts, FAILURE_KEYS, 'failure options');
    const reason = readReason(opts?.reason);
    this.store.report(record, 'failure', this.clock.now(), reason);
  }

  /** A snapshot of one connection; throws `BRAMA_NOT_FOUND`. Never consumes a half-open trial. */
  status(identifier: string, opts?: ScopeOptions): ConnectionStatus {
    const record = this.get(identifier, opts, SCOPE_KEYS, 'status options');
    const now = this.clock.now();
    this.store.settle(record, now);
    return this.snapshot(record, now);
  }

  /** Snapshots of every connection, or of one scope's. */
  list(filter?: ListFilter): ConnectionStatus[] {
    this.ensureOpen();
    const o = readOptions(filter, 'list filter', SCOPE_KEYS);
    const all = o.scope === undefined;
    const scope = all ? null : normalizeScope(o.scope);
    const now = this.clock.now();
    const out: ConnectionStatus[] = [];
    for (const record of [...this.store.records()]) {
      if (!all && record.scope !== scope) continue;
      this.store.settle(record, now);
      out.push(this.snapshot(record, now));
    }
    return out;
  }

  /** Opens the circuit now; `expiry` (ms) applies to this opening only. */
  openCircuit(identifier: string, opts?: OpenOptions): void {
    const record = this.get(identifier, opts, OPEN_KEYS, 'openCircuit options');
    const reason = readReason(opts?.reason);
    const expiry = opts?.expiry;
    if (expiry !== undefined) checkCircuitOption('expiry', expiry);
    this.store.act(record, 'open', this.clock.now(), reason, expiry ?? null);
  }

  /** Closes the circuit and zeroes the consecutive failure count. */
  closeCircuit(identifier: string, opts?: ActionOptions): void {
    this.manual(identifier, opts, 'close', 'closeCircuit options');
  }

  /** Back to `'closed'` with consecutive count and progressive backoff reset (totals kept). */
  resetCircuit(identifier: string, opts?: ActionOptions): void {
    this.manual(identifier, opts, 'reset', 'resetCircuit options');
  }

  /** Changes the global configuration (connections follow it where they have no own setting). */
  configure(options: GlobalConfigureOptions): void;
  /** Patches one connection's settings: only the keys given; `undefined` restores inheritance. */
  configure(identifier: string, options: ConnectionOptions): void;
  configure(target: unknown, options?: unknown): void {
    this.ensureOpen();
    if (typeof target === 'string') return this.configureConnection(target, options);
    if (typeof target !== 'object' || target === null || options !== undefined) {
      throw invalidArgument('configure arguments', '(options) or (identifier, options)', target);
    }
    const parsed = parseOptions(target, 'configure');
    this.globalOptions = mergeCircuitOptions(this.globalOptions, parsed.circuit);
    this.configVersion++;
    if (parsed.onListenerError) this.bus.onListenerError = parsed.onListenerError;
    const before = this.registry.cleanupInterval;
    this.registry = Object.freeze({ ...this.registry, ...parsed.registry });
    if (this.registry.cleanupInterval !== before)
      this.sweeper.schedule(this.registry.cleanupInterval);
  }

  /**
   * Runs `fn` under the connection's circuit (registering it with `opts` on first use). Refused
   * while open: `fn` is not called and the promise rejects with `CircuitOpenError` (or resolves
   * with `opts.fallback(error)`). `fn` receives an AbortSignal that aborts on `opts.timeout` or
   * when `opts.signal` aborts. Fulfilled: counted by `opts.classify` (default: success). Thrown
   * or rejected: counted as a failure (unless `opts.isFailure` says no) and re-thrown unchanged.
   */
  run<T>(
    identifier: string,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    opts?: CallOptions<T>,
  ): Promise<T> {
    let call;
    try {
      checkIdentifier(identifier);
      if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn);
      call = parseCallOptions(opts, 'run options');
    } catch (error) {
      return Promise.reject(error);
    }
    return execute(this.gate, identifier, call, fn, fn.length > 0, NO_ARGS);
  }

  /**
   * Returns `fn` protected by the connection's circuit: same parameters, same (awaited) result,
   * `this` passed through. Takes the options of `run`; `fallback` also receives the arguments.
   */
  wrap<Args extends unknown[], R>(
    identifier: string,
    fn: (...args: Args) => R,
    opts?: CallOptions<R, Args>,
  ): (...args: Args) => Promise<Awaited<R>> {
    this.ensureOpen();
    checkIdentifier(identifier);
    if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn);
    const call = parseCallOptions(opts, 'wrap options');
    const gate = this.gate;
    return function (this: unknown, ...args: Args): Promise<Awaited<R>> {
      return execute(gate, identifier, call, () => fn.apply(this, args) as Awaited<R>, false, args);
    };
  }

  /**
   * Subscribes to events; the filter's keys are ANDed. With `events: [...]`, the handler sees
   * only those event types.
   */
  subscribe<K extends BramaEventType = BramaEventType>(
    handler: EventHandler<K>,
    filter?: EventFilter<K>,
  ): Subscription {
    this.ensureOpen();
    return this.bus.subscribe(handler, filter);
  }

  /**
   * Runs one sweep now: moves expired open circuits to half-open and removes connections
   * inactive for `inactiveThreshold` ms. Returns how many were removed.
   */
  cleanup(): number {
    this.ensureOpen();
    const now = this.clock.now();
    const threshold = this.registry.inactiveThreshold;
    let removed = 0;
    for (const record of [...this.store.records()]) {
      this.store.settle(record, now);
      const idle = now - record.lastActivityAt;
      if (idle < threshold || !this.store.remove(record, 'cleanup')) continue;
      record.removed = true;
      removed++;
      if (this.bus.wants('connection_removed')) {
        this.send('connection_removed', record, now, {
          status: this.snapshot(record, now),
          inactiveForMs: idle,
        });
      }
    }
    if (this.bus.wants('cleanup')) this.send('cleanup', null, now, { removed });
    return removed;
  }

  /** Stops the sweep timer, drops listeners and releases the store. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.sweeper.stop();
    this.bus.clear();
    this.closing = this.store.close();
    return this.closing;
  }

  /** @internal Hooks for `brama/testing` (not part of the public API). */
  [INTERNALS](): BramaInternals {
    return {
      force: (identifier, state, opts) => {
        const record = this.get(identifier, opts, SCOPE_KEYS, 'setState options');
        const action: ManualAction = `force_${state}`;
        this.store.act(record, action, this.clock.now(), null, null);
      },
    };
  }

  private enter(
    identifier: string,
    scope: string | null,
    registration: ConnectionOptions,
  ): ConnectionRecord | CircuitOpenError {
    this.ensureOpen();
    let record = this.store.get(identifier, scope);
    if (record === undefined) {
      this.register(identifier, registration);
      record = this.store.get(identifier, scope);
      if (record === undefined)
        throw new BramaError(
          'BRAMA_NOT_FOUND',
          `Connection ${connectionName(identifier, scope)} vanished`,
        );
    }
    if (this.store.admit(record)) return record;
    const wait = retryAfter(record.circuit, this.settingsOf(record), this.clock.now());
    return CircuitOpenError.refusal(identifier, scope, record.circuit.state, wait);
  }

  private leave(record: ConnectionRecord, outcome: Outcome, reason: unknown, trial: boolean): void {
    if (this.closing || (outcome === 'ignore' && !trial)) return;
    if (record.removed) return; // unregistered (or swept) meanwhile
    try {
      this.store.report(record, outcome, this.clock.now(), reason);
    } catch {
      // A store failure must not turn the caller's result into an error.
    }
  }

  private configureConnection(identifier: string, options: unknown): void {
    checkIdentifier(identifier);
    if (options === undefined || options === null) {
      throw invalidArgument('configure options', 'an object of connection options', options);
    }
    const record = this.get(identifier, options, CONNECTION_KEYS, 'configure options');
    const o = options as Record<string, unknown>;
    const metadata = 'metadata' in o ? readMetadata(o.metadata) : null;
    const patch = pickCircuitOptions(o);
    const merged = mergeCircuitOptions(record.options, patch);
    pickCircuitOptions({ ...merged }); // the merged set must be consistent too (maxExpiry >= initialExpiry)
    record.options = merged;
    record.settings = null;
    if (metadata !== null) record.metadata = metadata;
    record.lastActivityAt = Math.max(record.lastActivityAt, this.clock.now());
    this.store.reconfigured(record);
  }

  private manual(
    identifier: string,
    opts: ActionOptions | undefined,
    action: 'close' | 'reset',
    what: string,
  ): void {
    const record = this.get(identifier, opts, FAILURE_KEYS, what);
    const reason = readReason(opts?.reason);
    this.store.act(record, action, this.clock.now(), reason, null);
  }

  /** Validates identifier and options, then looks the connection up (may be absent). */
  private find(
    identifier: string,
    opts: unknown,
    keys: ReadonlySet<string>,
    what: string,
  ): ConnectionRecord | undefined {
    if (this.closing) throw closedError();
    checkIdentifier(identifier);
    const scope = opts === undefined ? null : normalizeScope(readOptions(opts, what, keys).scope);
    return this.store.get(identifier, scope);
  }

  /** Like `find`, but throws `BRAMA_NOT_FOUND` when the connection is not registered. */
  private get(
    identifier: string,
    opts: unknown,
    keys: ReadonlySet<string>,
    what: string,
  ): ConnectionRecord {
    const record = this.find(identifier, opts, keys, what);
    if (record === undefined) {
      const scope = normalizeScope((opts as ScopeOptions | undefined)?.scope);
      throw new BramaError(
        'BRAMA_NOT_FOUND',
        `Connection ${connectionName(identifier, scope)} is not registered`,
      );
    }
    return record;
  }

  private settingsOf(record: ConnectionRecord): CircuitSettings {
    if (record.settings === null || record.settingsVersion !== this.configVersion) {
      record.settings =
        record.options === NO_OPTIONS
          ? this.inheritedSettings()
          : resolveSettings(this.globalOptions, record.options);
      record.settingsVersion = this.configVersion;
    }
    return record.settings;
  }

  /** The settings of connections without own options: one frozen object per configuration. */
  private inheritedSettings(): CircuitSettings {
    if (this.inherited === null || this.inherited.version !== this.configVersion) {
      this.inherited = {
        version: this.configVersion,
        settings: resolveSettings(this.globalOptions, NO_OPTIONS),
      };
    }
    return this.inherited.settings;
  }

  private snapshot(record: ConnectionRecord, now: number): ConnectionStatus {
    return toStatus(record, this.settingsOf(record), now);
  }

  private committed(
    record: ConnectionRecord,
    kind: ChangeKind,
    from: CircuitState,
    reason: unknown,
    origin: 'local' | 'remote',
  ): void {
    if (!this.bus.active) return;
    const now = this.clock.now();
    emitChange(this.bus, record, kind, from, reason, origin, now, () => this.snapshot(record, now));
  }

  private storeHealth(isDegraded: boolean, detail: unknown): void {
    const now = this.clock.now();
    if (isDegraded) {
      if (this.bus.wants('store_degraded'))
        this.send('store_degraded', null, now, { error: storeUnavailable(detail) });
    } else if (this.bus.wants('store_recovered')) {
      this.send('store_recovered', null, now, {
        downtimeMs: typeof detail === 'number' ? detail : 0,
      });
    }
  }

  private send<K extends BramaEventType>(
    type: K,
    record: ConnectionRecord | null,
    timestamp: number,
    data: BramaEventDataMap[K],
  ): void {
    if (!this.bus.wants(type)) return;
    this.bus.emit({
      type,
      timestamp,
      identifier: record?.identifier ?? null,
      scope: record?.scope ?? null,
      data,
    } as BramaEvent);
  }

  private ensureOpen(): void {
    if (this.closing) throw closedError();
  }
}

export type {
  ActionOptions,
  ConnectionOptions,
  FailureOptions,
  ListFilter,
  OpenOptions,
  ScopeOptions,
};
