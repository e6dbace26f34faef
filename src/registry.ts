/**
 * The state one `Brama` registry shares with its helpers (the call gate, the event sender):
 * the clock, the store, the event bus, the effective settings of each connection and the
 * lookups every method starts with. The facade (`brama.ts`) validates input and delegates here.
 */
import { checkIdentifier, connectionName, normalizeScope, readOptions } from './core/arguments.js';
import { meterOf } from './core/call-meter.js';
import type { Clock } from './core/clock.js';
import { BramaError, invalidArgument } from './core/errors.js';
import { createRecord, type ConnectionRecord, type Metadata } from './core/record.js';
import {
  mergeCircuitOptions,
  NO_OPTIONS,
  pickCircuitOptions,
  resolveSettings,
  type CircuitOptions,
  type CircuitSettings,
} from './core/settings.js';
import type { CircuitState } from './core/state.js';
import { toStatus, type ConnectionStatus } from './core/status.js';
import { admit } from './core/transitions.js';
import { hasShape } from './core/window.js';
import { EventSender } from './event-sender.js';
import { EventBus } from './events/event-bus.js';
import type { ChangeOrigin } from './events/types.js';
import type { Metering } from './metering.js';
import { closedError, CONNECTION_KEYS, readMetadata } from './method-options.js';
import type { ChangeKind, ConnectionStore, StoreHost } from './stores/store.js';
import { TurnClock } from './turn-clock.js';

/** How many other scopes holding an identifier a `BRAMA_NOT_FOUND` message names. */
const NAMED_SCOPES = 3;

/**
 * Also the `StoreHost` its store reports to: the store calls it directly (no wrapper in
 * between), and the checks that usually end a call (nobody listens) come first.
 */
export class Registry implements StoreHost {
  readonly clock: TurnClock;
  readonly bus = new EventBus();
  readonly events = new EventSender(this);
  /** Set by `close()`: the registry refuses every call from then on. */
  closing: Promise<void> | null = null;
  /** `StoreHost.random`: the `random` option, never throwing, always in [0, 1). */
  readonly random = (): number => {
    try {
      const value = this.randomSource();
      if (typeof value === 'number' && value >= 0 && value < 1) return value;
    } catch {
      // A broken source must not break isAvailable: fall back below.
    }
    return Math.random();
  };
  /** The store's last `degraded` report (for stores that do not expose `degraded`). */
  private storeDown = false;
  /** Set while a `brama/metrics` exporter is attached (see metering.ts). */
  metering: Metering | null = null;
  /** The user's `random` option. */
  randomSource: () => number = Math.random;
  private globalOptions: CircuitOptions;
  /** Bumped by every global configure; invalidates the records' cached settings. */
  private configVersion = 0;
  private inherited: { readonly version: number; readonly settings: CircuitSettings } | null = null;

  constructor(
    clock: Clock,
    readonly store: ConnectionStore,
    globalOptions: CircuitOptions,
  ) {
    this.clock = new TurnClock(clock);
    this.globalOptions = globalOptions;
  }

  /** `StoreHost.committed`: the events of one committed change (none when nobody listens). */
  committed(
    record: ConnectionRecord,
    kind: ChangeKind,
    from: CircuitState,
    reason: unknown,
    origin: ChangeOrigin,
  ): void {
    // Both origins count: this process saw the change, whoever made it.
    if (this.metering !== null && from !== record.circuit.state)
      meterOf(record).transition(from, record.circuit.state);
    if (this.bus.active) this.events.committed(record, kind, from, reason, origin);
  }

  /** `StoreHost.degraded`: `store_degraded` / `store_recovered`. */
  degraded(isDegraded: boolean, detail: unknown): void {
    this.storeDown = isDegraded;
    this.events.storeHealth(isDegraded, detail);
  }

  /** Whether the store works on local state (as it says, or as it last reported). */
  get storeDegraded(): boolean {
    return this.store.degraded ?? this.storeDown;
  }

  ensureOpen(): void {
    if (this.closing !== null) throw closedError();
  }

  /** Layers `patch` over the global circuit options; connections follow from their next use. */
  configure(patch: CircuitOptions): void {
    this.globalOptions = mergeCircuitOptions(this.globalOptions, patch);
    this.configVersion++;
    for (const record of this.store.records()) this.dropStaleWindow(record);
  }

  /**
   * After a configure: a `'rate'` window kept under another trip policy or shape is emptied (its
   * counts say nothing under the new one), so status and the next outcome start from zero.
   */
  private dropStaleWindow(record: ConnectionRecord): void {
    const w = record.window;
    if (w === null) return;
    const s = this.settingsOf(record);
    if (s.tripPolicy !== 'rate' || !hasShape(w, s.window)) record.window = null;
  }

  /** Snapshots of every connection (`scope` undefined) or of one scope's (`null`: none). */
  list(scope: string | null | undefined): ConnectionStatus[] {
    const now = this.clock.now();
    const out: ConnectionStatus[] = [];
    for (const record of [...this.store.records()]) {
      if (scope !== undefined && record.scope !== scope) continue;
      this.store.settle(record, now);
      out.push(this.snapshot(record, now));
    }
    return out;
  }

  /** See `Brama.wouldAdmit`: the store's answer, or the core's rules without taking a slot. */
  wouldAdmit(record: ConnectionRecord): boolean {
    const store = this.store;
    if (store.wouldAdmit !== undefined) return store.wouldAdmit(record);
    const c = record.circuit;
    if ((c.state === 'closed' && c.rampFrom === null) || c.state === 'unknown') return true;
    const now = this.clock.now();
    store.settle(record, now);
    const settings = this.settingsOf(record);
    return settings.mode === 'shadow' || admit(record.circuit, settings, now, this.random) !== null;
  }

  /** Adds a new connection; throws `BRAMA_ALREADY_REGISTERED` if it exists. */
  add(
    identifier: string,
    scope: string | null,
    own: CircuitOptions,
    metadata: Metadata,
  ): ConnectionStatus {
    if (this.store.get(identifier, scope) !== undefined) {
      throw new BramaError(
        'BRAMA_ALREADY_REGISTERED',
        `Connection ${connectionName(identifier, scope)} is already registered`,
      );
    }
    const now = this.clock.now();
    const record = createRecord(identifier, scope, own, metadata, now);
    this.store.insert(record);
    const status = this.snapshot(record, now);
    this.events.send('registration', record, now, { status });
    return status;
  }

  /** `configure(identifier, options)`: patches one connection's own options and metadata. */
  reconfigure(identifier: string, options: unknown): void {
    checkIdentifier(identifier);
    if (options === undefined || options === null) {
      throw invalidArgument('configure options', 'an object of connection options', options);
    }
    const record = this.get(identifier, options, CONNECTION_KEYS, 'configure options');
    const o = readOptions(options, 'configure options', CONNECTION_KEYS);
    const metadata = 'metadata' in o ? readMetadata(o.metadata) : null;
    const merged = mergeCircuitOptions(record.options, pickCircuitOptions(o));
    pickCircuitOptions({ ...merged }); // the merged set must be consistent too (maxExpiry >= initialExpiry)
    record.options = merged;
    record.settings = null;
    this.dropStaleWindow(record);
    if (metadata !== null) record.metadata = metadata;
    record.lastActivityAt = Math.max(record.lastActivityAt, this.clock.now());
    this.store.reconfigured(record);
  }

  /** The effective settings of a record, cached on it until the global configuration changes. */
  settingsOf(record: ConnectionRecord): CircuitSettings {
    if (record.settings === null || record.settingsVersion !== this.configVersion) {
      record.settings =
        record.options === NO_OPTIONS
          ? this.inheritedSettings()
          : resolveSettings(this.globalOptions, record.options);
      record.settingsVersion = this.configVersion;
    }
    return record.settings;
  }

  snapshot(record: ConnectionRecord, now: number): ConnectionStatus {
    return toStatus(record, this.settingsOf(record), now);
  }

  /** Validates identifier and options, then looks the connection up (may be absent). */
  find(
    identifier: string,
    opts: unknown,
    keys: ReadonlySet<string>,
    what: string,
  ): ConnectionRecord | undefined {
    this.ensureOpen();
    checkIdentifier(identifier);
    return this.store.get(identifier, scopeIn(opts, keys, what));
  }

  /** Like `find`, but throws `BRAMA_NOT_FOUND` when the connection is not registered. */
  get(
    identifier: string,
    opts: unknown,
    keys: ReadonlySet<string>,
    what: string,
  ): ConnectionRecord {
    this.ensureOpen();
    checkIdentifier(identifier);
    const scope = scopeIn(opts, keys, what);
    const record = this.store.get(identifier, scope);
    if (record === undefined) throw this.notFound(identifier, scope);
    return record;
  }

  /**
   * `BRAMA_NOT_FOUND` for a connection, naming where else the identifier is registered (the
   * usual mistake: a scoped connection asked for without its scope, or the other way round).
   */
  notFound(identifier: string, scope: string | null): BramaError {
    let unscoped = false;
    const scopes: string[] = [];
    let more = 0;
    for (const record of this.store.records()) {
      if (record.identifier !== identifier || record.scope === scope) continue;
      if (record.scope === null) unscoped = true;
      else if (scopes.length < NAMED_SCOPES) scopes.push(JSON.stringify(record.scope));
      else more++;
    }
    const where: string[] = [];
    if (unscoped) where.push('without a scope');
    if (scopes.length > 0) {
      const named = more > 0 ? `${scopes.join(', ')} and ${more} more` : joinAnd(scopes);
      where.push(`in scope${scopes.length + more > 1 ? 's' : ''} ${named}`);
    }
    const hint =
      where.length === 0
        ? ''
        : `; ${JSON.stringify(identifier)} is registered ${where.join(' and ')}`;
    return new BramaError(
      'BRAMA_NOT_FOUND',
      `Connection ${connectionName(identifier, scope)} is not registered${hint}`,
    );
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
}

/** The scope named by a method's options (read once: an options object may be a Proxy). */
function scopeIn(opts: unknown, keys: ReadonlySet<string>, what: string): string | null {
  return opts === undefined ? null : normalizeScope(readOptions(opts, what, keys).scope);
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] as string}`;
}
