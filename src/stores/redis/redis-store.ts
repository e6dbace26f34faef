/**
 * Fleet mode: a store whose truth lives in Redis, shared by every process using the same
 * prefix. The local view (the records) answers `isAvailable` with no I/O; every report and
 * action runs one Lua script in Redis and the authoritative result comes back into the view
 * (from the script's reply for this process, from a pub/sub announcement for the others).
 * See docs/architecture.md, "Fleet mode".
 */
import { BramaError } from '../../core/errors.js';
import { reasonText, type ConnectionRecord } from '../../core/record.js';
import type { CircuitState } from '../../core/state.js';
import { ConnectionIndex } from '../connection-index.js';
import { actLocally, admitLocally, reportLocally, settleLocally } from '../local-apply.js';
import type {
  ChangeKind,
  ConnectionStore,
  ManualAction,
  Outcome,
  RemovalCause,
  StoreHost,
} from '../store.js';
import type { ChangeOrigin } from '../../events/types.js';
import { RedisScripts, type ConnectionSeed } from './commands.js';
import { RedisLink, within, type ClientFactory } from './link.js';
import type { RedisStoreSettings } from './options.js';
import type { ScriptReply, ScriptResult } from './reply.js';
import {
  adoptOptions,
  createEntry,
  isNewer,
  MANUAL_ACTIONS,
  parseAnnouncement,
  seedOf,
  writeRemote,
  type Entry,
} from './view.js';

/** An unused lease goes back to the fleet after this long (capped by probeTimeout). */
const LEASE_HOLD_MS = 1000;
/** A refused lease request is retried after at most this long (sooner on a state change). */
const ACQUIRE_BACKOFF_MS = 50;
/** How many connections a reconciliation reads at once. */
const RESYNC_BATCH = 256;

/** The Redis-backed store of `brama/redis`. Create it with `createRedisStore`. */
export class RedisStore implements ConnectionStore {
  private host: StoreHost | null = null;
  private readonly index = new ConnectionIndex<Entry>();
  private link: RedisLink | null = null;
  private scripts: RedisScripts | null = null;
  private readonly pending = new Set<Promise<void>>();
  private leaseSeq = 0;
  private closed = false;
  private refusing = false;

  /** @internal Use `createRedisStore`. */
  constructor(
    private readonly settings: RedisStoreSettings,
    private readonly factory: ClientFactory | null,
  ) {}

  /** The key prefix this store shares state under. */
  get prefix(): string {
    return this.settings.prefix;
  }

  /** Whether the store currently works on local state because Redis is unreachable or slow. */
  get degraded(): boolean {
    return this.link?.degraded ?? false;
  }

  /**
   * Resolves once the store is attached and subscribed to changes (or the attempt failed and
   * the store is degraded: check {@link degraded}). Never rejects.
   */
  async ready(): Promise<void> {
    await this.link?.ready();
  }

  /**
   * Resolves once every command sent so far has been answered and its result applied to the
   * local view (for tests and graceful shutdown), or as soon as the store is degraded (Redis
   * is not answering: waiting would not end). Never rejects.
   */
  async flush(): Promise<void> {
    // Follow-up commands (a lease request after a reply, a retry) count too; under a steady
    // stream of new commands, stop after a bounded number of rounds.
    for (let round = 0; round < 64 && this.pending.size > 0 && !this.degraded; round++) {
      const degraded = this.link?.whenDegraded();
      await Promise.race([Promise.allSettled([...this.pending]), degraded?.promise]);
      degraded?.cancel();
    }
  }

  attach(host: StoreHost): void {
    if (this.host !== null) {
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        'Invalid option "store": expected a store no other Brama instance uses, received a RedisStore that is already attached',
      );
    }
    if (this.closed) throw new BramaError('BRAMA_CLOSED', 'This RedisStore is closed');
    this.host = host;
    const link = new RedisLink(this.settings, host.clock, this.factory);
    this.link = link;
    this.scripts = new RedisScripts(link.client, {
      prefix: this.settings.prefix,
      ttlMs: this.settings.keyTtl,
      source: link.source,
    });
    link.start({
      message: (payload) => this.onMessage(payload),
      degraded: (error) => {
        this.refusing = this.settings.degradedPolicy === 'refuse';
        host.degraded(true, error);
      },
      resync: () => {
        this.refusing = false;
        return this.resync();
      },
      recovered: (downtimeMs) => host.degraded(false, downtimeMs),
    });
  }

  get size(): number {
    return this.index.size;
  }

  get(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.index.get(identifier, scope)?.record;
  }

  insert(record: ConnectionRecord): void {
    const entry = createEntry(record);
    this.index.set(record.identifier, record.scope, entry);
    this.register(entry, null);
  }

  remove(record: ConnectionRecord, cause: RemovalCause): boolean {
    const entry = this.index.get(record.identifier, record.scope);
    if (entry?.record !== record || !this.index.delete(record.identifier, record.scope, entry))
      return false;
    if (entry.hold) clearTimeout(entry.hold);
    if (cause === 'unregister' && !this.degraded) {
      this.command(
        (s) => s.delete(record),
        () => {},
      );
    }
    return true;
  }

  records(): IterableIterator<ConnectionRecord> {
    return mapIterator(this.index.values(), (entry) => entry.record);
  }

  settle(record: ConnectionRecord, now: number): void {
    const host = this.attached();
    const from = record.circuit.state;
    settleLocally(host, record, now);
    if (from === 'open' && record.circuit.state === 'half_open') this.enteredHalfOpen(record);
  }

  admit(record: ConnectionRecord): boolean {
    const state = record.circuit.state;
    // The hot path: no I/O, no clock; `refusing` is true only while degraded under 'refuse'.
    if (state === 'closed' || state === 'unknown') return !this.refusing;
    const host = this.attached();
    if (this.degraded) {
      const policy = this.settings.degradedPolicy;
      return policy === 'allow' ? true : policy === 'refuse' ? false : admitLocally(host, record);
    }
    const now = host.clock.now();
    this.settle(record, now);
    if (record.circuit.state !== 'half_open') return record.circuit.state !== 'open';
    const entry = this.entryOf(record);
    if (entry === undefined) return false;
    while (entry.free.length > 0) {
      const lease = entry.free.shift()!;
      if (lease.until <= now) continue;
      entry.active = entry.active.filter((l) => l.until > now);
      entry.active.push(lease);
      return true;
    }
    this.acquire(entry);
    return false;
  }

  report(record: ConnectionRecord, outcome: Outcome, now: number, reason: unknown): void {
    const host = this.attached();
    const entry = this.entryOf(record);
    const lease = entry?.active.shift();
    if (entry === undefined || this.degraded) {
      reportLocally(host, record, outcome, now, reason);
      return;
    }
    if (outcome === 'ignore' && lease === undefined) return; // nothing to release
    const text = reasonText(reason);
    const send = (s: RedisScripts): Promise<ScriptReply> =>
      s.report(
        record,
        host.settingsOf(record),
        outcome,
        text,
        lease?.token ?? null,
        lease?.generation ?? null,
      );
    this.command(
      send,
      (reply) => this.answered(entry, reply, send, outcome, reason),
      () => reportLocally(host, record, outcome, now, reason),
    );
  }

  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    const host = this.attached();
    const entry = this.entryOf(record);
    const local = (): void => {
      actLocally(host, record, action, now, reason, expiry);
      if (entry !== undefined) entry.pendingAction = { action, reason: reasonText(reason), expiry };
    };
    if (entry === undefined || this.degraded) return local();
    const send = (s: RedisScripts): Promise<ScriptReply> =>
      s.act(record, host.settingsOf(record), action, expiry, reasonText(reason));
    this.command(send, (reply) => this.answered(entry, reply, send, action, reason), local);
  }

  reconfigured(record: ConnectionRecord): void {
    const entry = this.entryOf(record);
    if (entry === undefined) return;
    if (this.degraded) {
      entry.needsConfigure = true;
      return;
    }
    const send = (s: RedisScripts): Promise<ScriptReply> =>
      s.configure(record, record.options, record.metadata);
    this.command(
      send,
      (reply) => this.answered(entry, reply, send, 'sync', null),
      () => (entry.needsConfigure = true),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.index.values()) if (entry.hold) clearTimeout(entry.hold);
    await within(this.flush(), this.settings.commandTimeout);
    this.index.clear();
    await this.link?.close();
  }

  /** Sends a command; `onReply` applies its answer, `onError` runs when it failed. */
  private command(
    send: (scripts: RedisScripts) => Promise<ScriptReply | boolean>,
    onReply: (reply: ScriptReply) => void,
    onError?: () => void,
  ): void {
    void this.tracked(send, onReply, onError);
  }

  /** {@link command}, resolving (never rejecting) once the answer is applied. */
  private tracked(
    send: (scripts: RedisScripts) => Promise<ScriptReply | boolean>,
    onReply: (reply: ScriptReply) => void,
    onError?: () => void,
  ): Promise<void> | undefined {
    const link = this.link;
    const scripts = this.scripts;
    if (link === null || scripts === null || this.closed) return undefined;
    const started = link.begin();
    const clockBefore = this.attached().clock.now();
    let sent: Promise<ScriptReply | boolean>;
    try {
      sent = send(scripts);
    } catch (error) {
      sent = Promise.reject(error);
    }
    const done = sent
      .then(
        (reply) => {
          if (typeof reply === 'boolean') return link.answered(started, clockBefore, NaN);
          link.answered(started, clockBefore, reply.now);
          if (!this.closed) onReply(reply);
        },
        (error: unknown) => {
          link.failed(error);
          if (!this.closed) onError?.();
        },
      )
      .catch((bug: unknown) => {
        // Not a Redis error (those are handled above): never let it reach the caller.
        process.emitWarning(`brama: applying a Redis reply failed: ${String(bug)}`, 'BramaWarning');
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
    return done;
  }

  /**
   * The answer to this process's report or action: apply it, or, when Redis has lost the
   * connection (expired, deleted, Redis restarted), recreate it from the local view and retry.
   */
  private answered(
    entry: Entry,
    reply: ScriptReply,
    send: (s: RedisScripts) => Promise<ScriptReply>,
    kind: ChangeKind,
    reason: unknown,
  ): void {
    if (reply.found) return this.ingest(entry, reply, kind, reason, true);
    if (this.index.get(entry.record.identifier, entry.record.scope) !== entry) return;
    this.register(entry, seedOf(entry, this.link?.offset ?? 0), () =>
      this.command(send, (again) => {
        if (again.found) this.ingest(entry, again, kind, reason, true);
      }),
    );
  }

  /** Creates or adopts the connection in Redis; `then` runs after the answer is applied. */
  private register(entry: Entry, seed: ConnectionSeed | null, then?: () => void): void {
    const { record } = entry;
    if (this.degraded) {
      entry.needsRegister = true;
      return;
    }
    entry.needsRegister = false;
    this.command(
      (s) => s.register(record, record.options, record.metadata, seed),
      (reply) => {
        if (reply.found) this.ingest(entry, reply, 'sync', null, true);
        then?.();
      },
      () => (entry.needsRegister = true),
    );
  }

  /**
   * Leases half-open trial slots in the background, one request at a time per connection,
   * until this process holds `halfOpenProbes` or Redis refuses (the fleet holds them all).
   */
  private acquire(entry: Entry): void {
    if (entry.acquiring || this.degraded || this.closed) return;
    const host = this.attached();
    // Refused: the fleet holds every slot until the earliest lease lapses (or a trial reports,
    // which changes the state and clears this).
    if (entry.retryAt > host.clock.now()) return;
    const { record } = entry;
    const settings = host.settingsOf(record);
    const token = `${this.link!.source}:${++this.leaseSeq}`;
    entry.acquiring = true;
    this.command(
      (s) => s.acquireTrial(record, settings, token),
      (reply) => {
        entry.acquiring = false;
        if (!reply.found) return;
        this.ingest(entry, reply, 'sync', null, true);
        if (!reply.flag) {
          const wait = Math.min(reply.retryAfter, ACQUIRE_BACKOFF_MS);
          if (record.circuit.state === 'half_open') entry.retryAt = host.clock.now() + wait;
          return;
        }
        if (record.circuit.state !== 'half_open') return;
        const until = host.clock.now() + settings.probeTimeout;
        entry.free.push({ token, generation: reply.connection.circuit.generation, until });
        this.holdLease(entry, Math.min(settings.probeTimeout, LEASE_HOLD_MS));
        if (entry.free.length + entry.active.length < settings.halfOpenProbes) this.acquire(entry);
      },
      () => (entry.acquiring = false),
    );
  }

  /** Gives unused leases back after `ms`, so an idle process does not block the fleet's probes. */
  private holdLease(entry: Entry, ms: number): void {
    if (entry.hold !== null) return;
    entry.hold = setTimeout(() => {
      entry.hold = null;
      const unused = entry.free.splice(0);
      for (const lease of unused) {
        this.command(
          (s) =>
            s.report(
              entry.record,
              this.attached().settingsOf(entry.record),
              'ignore',
              null,
              lease.token,
              lease.generation,
            ),
          () => {},
        );
      }
    }, ms);
    entry.hold.unref();
  }

  private enteredHalfOpen(record: ConnectionRecord): void {
    const entry = this.entryOf(record);
    if (entry !== undefined && !this.degraded) this.acquire(entry);
  }

  /** A change announced by some process's script. */
  private onMessage(payload: string): void {
    const message = parseAnnouncement(payload);
    if (message === null || message.source === this.link?.source) return; // own: from the reply
    const entry = this.index.get(message.identifier, message.scope);
    if (entry === undefined) return;
    if (message.kind === 'configure') adoptOptions(entry, message.result.connection);
    this.ingest(entry, message.result, message.kind, message.reason, false);
  }

  /** Brings the local view to a state read from Redis and announces what changed. */
  private ingest(
    entry: Entry,
    result: ScriptResult,
    kind: ChangeKind,
    reason: unknown,
    own: boolean,
  ): void {
    const host = this.attached();
    const { record } = entry;
    const remote = result.connection;
    const origin: ChangeOrigin = own && kind !== 'sync' ? 'local' : 'remote';
    if (!isNewer(entry, remote, own)) {
      // Overtaken by a newer announcement: still tell this process's listeners about its call.
      if (own && (kind === 'success' || kind === 'failure'))
        this.changed(entry, kind, record.circuit.state, reason, 'local');
      return;
    }
    if (result.expired && record.circuit.state === 'open') {
      settleLocally(host, record, Number.MAX_SAFE_INTEGER); // the expiry this script recorded
    }
    const before = record.circuit.state;
    writeRemote(entry, remote, this.link?.offset ?? 0);
    const to = record.circuit.state;
    if (
      own &&
      !result.transitioned &&
      before !== to &&
      !MANUAL_ACTIONS.has(kind) &&
      kind !== 'sync'
    ) {
      // Another process moved the state first; this call's outcome changed nothing.
      this.changed(entry, 'sync', before, null, 'remote');
      this.changed(entry, kind, to, reason, 'local');
    } else {
      // A transition this process caused starts where Redis applied it, even if the view had
      // not yet heard of the state before it (e.g. unknown → closed by another process).
      const from = own && result.transitioned ? result.from : before;
      this.changed(entry, kind, from, reason, origin);
    }
  }

  private changed(
    entry: Entry,
    kind: ChangeKind,
    from: CircuitState,
    reason: unknown,
    origin: ChangeOrigin,
  ): void {
    const state = entry.record.circuit.state;
    if (state !== 'half_open') entry.free.length = 0;
    if (state !== from) entry.retryAt = 0;
    this.attached().committed(entry.record, kind, from, reason, origin);
    if (state === 'half_open' && from !== 'half_open') this.enteredHalfOpen(entry.record);
  }

  /**
   * After a degraded period or a lost subscription: replay what waited (registrations, options,
   * the last manual action per connection), then read every connection back from Redis.
   * Connections Redis no longer has are recreated from the local view.
   */
  private async resync(): Promise<void> {
    const entries = [...this.index.values()];
    for (let i = 0; i < entries.length && !this.closed && !this.degraded; i += RESYNC_BATCH) {
      const batch: Promise<void>[] = [];
      for (const entry of entries.slice(i, i + RESYNC_BATCH)) {
        const answered = this.resyncOne(entry);
        if (answered !== undefined) batch.push(answered);
      }
      await Promise.allSettled(batch);
    }
  }

  /** Replays and reads back one connection; resolves when the read (or action) is answered. */
  private resyncOne(entry: Entry): Promise<void> | undefined {
    const { record } = entry;
    const host = this.attached();
    if (entry.needsRegister) this.register(entry, seedOf(entry, this.link?.offset ?? 0));
    if (entry.needsConfigure) {
      entry.needsConfigure = false;
      this.reconfigured(record);
    }
    const action = entry.pendingAction;
    entry.pendingAction = null;
    if (action !== null) {
      const send = (s: RedisScripts): Promise<ScriptReply> =>
        s.act(record, host.settingsOf(record), action.action, action.expiry, action.reason);
      return this.tracked(send, (reply) =>
        this.answered(entry, reply, send, action.action, action.reason),
      );
    }
    return this.tracked(
      (s) => s.read(record),
      (reply) => {
        if (reply.found) this.ingest(entry, reply, 'sync', null, true);
        else if (this.index.get(record.identifier, record.scope) === entry)
          this.register(entry, seedOf(entry, this.link?.offset ?? 0));
      },
    );
  }

  private entryOf(record: ConnectionRecord): Entry | undefined {
    const entry = this.index.get(record.identifier, record.scope);
    return entry?.record === record ? entry : undefined;
  }

  private attached(): StoreHost {
    if (this.host === null)
      throw new BramaError('BRAMA_CLOSED', 'RedisStore is not attached to a Brama instance');
    return this.host;
  }
}

function* mapIterator<T, U>(source: IterableIterator<T>, f: (t: T) => U): IterableIterator<U> {
  for (const item of source) yield f(item);
}
