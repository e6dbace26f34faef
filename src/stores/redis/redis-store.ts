/**
 * Fleet mode: a store whose truth lives in Redis, shared by every process using the same
 * prefix. The local view (the records) answers `isAvailable` with no I/O; every report and
 * action runs one Lua script in Redis and the authoritative result comes back into the view
 * (from the script's reply for this process, from a pub/sub announcement for the others).
 * See docs/architecture.md, "Fleet mode"; the parts: link.ts and health.ts (connections and
 * degraded mode), view.ts (which state wins), leases.ts, resync.ts, upkeep.ts.
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
import { RedisScripts } from './commands.js';
import { connectionTag } from './keys.js';
import { Leases } from './leases.js';
import { RedisLink, within, type ClientFactory } from './link.js';
import type { RedisStoreSettings } from './options.js';
import type { ScriptReply, ScriptResult } from './reply.js';
import { Resync } from './resync.js';
import type { OnAnswer, OnError, StoreCore } from './shared.js';
import { REFRESH_MS, Upkeep } from './upkeep.js';
import {
  adoptOptions,
  countOffline,
  createEntry,
  deltaOf,
  judgeAnswer,
  judgeHint,
  MANUAL_ACTIONS,
  parseAnnouncement,
  seedOf,
  writeRemote,
  type Entry,
} from './view.js';

/** The Redis-backed store of `brama/redis`. Create it with `createRedisStore`. */
export class RedisStore implements ConnectionStore {
  private attachedTo: StoreHost | null = null;
  private readonly index = new ConnectionIndex<Entry>();
  private linked: RedisLink | null = null;
  private bound: RedisScripts | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly core: StoreCore;
  private readonly leases: Leases;
  private readonly upkeep: Upkeep;
  private readonly resyncer: Resync;
  private seq = 0;
  /** Bumped whenever an announcement is applied to a view (see view.ts judgeAnswer). */
  private hints = 0;
  private closed = false;
  /** True only while degraded under `'refuse'` (read on the hot path). */
  private refusing = false;

  /** @internal Use `createRedisStore`. */
  constructor(
    private readonly settings: RedisStoreSettings,
    private readonly factory: ClientFactory | null,
  ) {
    // The parts read the store's attachments through getters (they exist once attached).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    this.core = {
      get host() {
        return store.host;
      },
      get link() {
        return store.link;
      },
      get scripts() {
        return store.scripts;
      },
      settings,
      get online() {
        return store.linked !== null && !store.closed && !store.linked.degraded;
      },
      nextSeq: () => ++this.seq,
      current: (entry) => this.index.get(entry.record.identifier, entry.record.scope) === entry,
      entries: () => [...this.index.values()],
      send: (command, onAnswer, onError) => this.send(command, onAnswer, onError),
      ingest: (entry, result, kind, reason, sentEpoch) =>
        this.ingest(entry, result, kind, reason, sentEpoch),
      sync: (entry, then) => this.sync(entry, then),
      broke: (entry, error) => this.upkeep.broke(entry, error),
    };
    this.leases = new Leases(this.core);
    this.upkeep = new Upkeep(this.core);
    this.resyncer = new Resync(this.core);
  }

  /** The key prefix this store shares state under. */
  get prefix(): string {
    return this.settings.prefix;
  }

  /** Whether the store currently works on local state because Redis is unreachable or slow. */
  get degraded(): boolean {
    return this.linked?.degraded ?? false;
  }

  /**
   * Resolves once the store is attached and subscribed to changes (or the attempt failed and
   * the store is degraded: check {@link degraded}). Never rejects.
   */
  async ready(): Promise<void> {
    await this.linked?.ready();
  }

  /**
   * Resolves once every command sent so far (and a reconciliation under way) has been answered
   * and its result applied to the local view (for tests and graceful shutdown), or as soon as
   * the store is degraded (Redis is not answering: waiting would not end). Never rejects.
   */
  async flush(): Promise<void> {
    const link = this.linked;
    if (link === null) return;
    // Follow-up commands (a lease request after a reply, a retry) count too; under a steady
    // stream of new commands, stop after a bounded number of rounds.
    for (let round = 0; round < 64 && !this.degraded; round++) {
      const resync = link.health.pendingResync;
      if (this.pending.size === 0 && resync === null) return;
      const degraded = link.health.whenDegraded();
      await Promise.race([Promise.allSettled([...this.pending, resync]), degraded.promise]);
      degraded.cancel();
    }
  }

  attach(host: StoreHost): void {
    if (this.attachedTo !== null) {
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        'Invalid option "store": expected a store no other Brama instance uses, received a RedisStore that is already attached',
      );
    }
    if (this.closed) throw new BramaError('BRAMA_CLOSED', 'This RedisStore is closed');
    // Build everything before taking the host: a failure leaves the store unattached.
    let link: RedisLink;
    let scripts: RedisScripts;
    try {
      link = new RedisLink(this.settings, host.clock, this.factory);
      scripts = new RedisScripts(link.client, {
        prefix: this.settings.prefix,
        ttlMs: this.settings.keyTtl,
        source: link.source,
        announceEvery: REFRESH_MS,
      });
    } catch (error) {
      if (error instanceof BramaError) throw error;
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        `Invalid option "store": the Redis client could not be set up (${reasonText(error) ?? 'unknown error'})`,
        { cause: error },
      );
    }
    this.attachedTo = host;
    this.linked = link;
    this.bound = scripts;
    link.start({
      message: (payload) => this.onMessage(payload),
      degraded: (error) => {
        this.refusing = this.settings.degradedPolicy === 'refuse';
        host.degraded(true, error);
      },
      resync: () => this.resyncer.run(),
      recovered: (downtimeMs) => {
        this.refusing = false;
        host.degraded(false, downtimeMs);
      },
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
    if (!this.core.online) {
      entry.needsRegister = true;
      return;
    }
    void this.send(
      (s) => s.register(record, record.options, record.metadata),
      (reply, sentEpoch) => {
        if (reply.found) this.ingest(entry, reply, 'sync', null, sentEpoch);
      },
      (outage, error) => {
        entry.needsRegister = true;
        if (!outage) this.upkeep.broke(entry, error);
      },
    );
  }

  remove(record: ConnectionRecord, cause: RemovalCause): boolean {
    const entry = this.index.get(record.identifier, record.scope);
    if (entry?.record !== record || !this.index.delete(record.identifier, record.scope, entry))
      return false;
    this.leases.drop(entry);
    this.upkeep.forget(entry);
    if (cause === 'unregister')
      this.resyncer.delete(connectionTag(record.identifier, record.scope), record);
    return true;
  }

  records(): IterableIterator<ConnectionRecord> {
    return mapIterator(this.index.values(), (entry) => entry.record);
  }

  settle(record: ConnectionRecord, now: number): void {
    const host = this.host;
    const from = record.circuit.state;
    settleLocally(host, record, now);
    if (from === 'open' && record.circuit.state === 'half_open') {
      const entry = this.entryOf(record);
      if (entry !== undefined) this.leases.acquire(entry);
    }
  }

  admit(record: ConnectionRecord): boolean {
    const state = record.circuit.state;
    // The hot path: no I/O, no clock; `refusing` is true only while degraded under 'refuse'.
    if (state === 'closed' || state === 'unknown') return !this.refusing;
    const host = this.host;
    const entry = this.entryOf(record);
    if (this.degraded || this.refusing) {
      const policy = this.settings.degradedPolicy;
      if (policy === 'allow') return true;
      if (policy === 'refuse') return false;
    }
    if (entry === undefined || !this.core.online || entry.broken) return admitLocally(host, record);
    const now = host.clock.now();
    this.settle(record, now);
    if (record.circuit.state !== 'half_open') return record.circuit.state !== 'open';
    return this.leases.admit(entry, now);
  }

  report(record: ConnectionRecord, outcome: Outcome, now: number, reason: unknown): void {
    const host = this.host;
    const entry = this.entryOf(record);
    // Computed once, before anything is applied: a reason that cannot become text must not
    // leave the outcome half counted.
    const text = reasonText(reason);
    if (entry === undefined) return reportLocally(host, record, outcome, now, reason);
    const lease = this.leases.take(entry);
    if (!this.core.online || entry.broken) {
      reportLocally(host, record, outcome, now, reason);
      countOffline(entry, outcome, now, text);
      return;
    }
    if (outcome === 'ignore' && lease === undefined) return; // nothing to release
    const seq = this.nextSeq();
    const send = (s: RedisScripts, n: number): Promise<ScriptReply> =>
      s.report(
        record,
        host.settingsOf(record),
        outcome,
        text,
        lease?.token ?? null,
        lease?.generation ?? null,
        n,
      );
    void this.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.answered(entry, reply, send, outcome, reason, sentEpoch),
      (outage, error) => {
        reportLocally(host, record, outcome, now, reason);
        if (outcome === 'ignore') return;
        // Maybe applied before the connection failed: replayed with its number on recovery.
        if (outage) entry.unacked.push({ seq, outcome, reason: text });
        else {
          // Not applied when Redis refused the script; applied when only its reply was bad.
          if (!(error instanceof BramaError)) countOffline(entry, outcome, now, text);
          this.upkeep.broke(entry, error);
        }
      },
    );
  }

  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    const host = this.host;
    const entry = this.entryOf(record);
    const text = reasonText(reason);
    const local = (): void => {
      actLocally(host, record, action, now, reason, expiry);
      if (entry !== undefined) entry.pendingAction = { action, reason: text, expiry };
    };
    if (entry === undefined || !this.core.online || entry.broken) return local();
    const seq = this.nextSeq();
    const send = (s: RedisScripts, n: number): Promise<ScriptReply> =>
      s.act(record, host.settingsOf(record), action, expiry, text, n);
    void this.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.answered(entry, reply, send, action, reason, sentEpoch),
      (outage, error) => {
        local();
        if (!outage) this.upkeep.broke(entry, error);
      },
    );
  }

  reconfigured(record: ConnectionRecord): void {
    const entry = this.entryOf(record);
    if (entry === undefined) return;
    if (!this.core.online || entry.broken) {
      entry.needsConfigure = true;
      return;
    }
    const seq = this.nextSeq();
    const send = (s: RedisScripts, n: number): Promise<ScriptReply> =>
      s.configure(record, record.options, record.metadata, n);
    void this.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.answered(entry, reply, send, 'configure', null, sentEpoch),
      (outage, error) => {
        entry.needsConfigure = true;
        if (!outage) this.upkeep.broke(entry, error);
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.upkeep.close();
    for (const entry of this.index.values()) this.leases.drop(entry);
    await within(this.flush(), this.settings.commandTimeout);
    this.closed = true;
    this.index.clear();
    await this.linked?.close();
  }

  private get host(): StoreHost {
    if (this.attachedTo === null)
      throw new BramaError('BRAMA_CLOSED', 'RedisStore is not attached to a Brama instance');
    return this.attachedTo;
  }

  private get link(): RedisLink {
    if (this.linked === null)
      throw new BramaError('BRAMA_CLOSED', 'RedisStore is not attached to a Brama instance');
    return this.linked;
  }

  private get scripts(): RedisScripts {
    if (this.bound === null)
      throw new BramaError('BRAMA_CLOSED', 'RedisStore is not attached to a Brama instance');
    return this.bound;
  }

  private nextSeq(): number {
    return ++this.seq;
  }

  /** Sends a command and routes its answer or failure; see StoreCore.send. */
  private send<R extends ScriptReply | boolean>(
    command: (scripts: RedisScripts) => Promise<R>,
    onAnswer: OnAnswer<R>,
    onError?: OnError,
  ): Promise<void> | undefined {
    const link = this.linked;
    const scripts = this.bound;
    if (link === null || scripts === null || this.closed) return undefined;
    const id = link.begin();
    const started = performance.now();
    const clockBefore = this.host.clock.now();
    const sentEpoch = this.hints;
    let sent: Promise<R>;
    try {
      sent = command(scripts);
    } catch (error) {
      sent = Promise.reject(error);
    }
    const done = sent
      .then(
        (answer) => {
          const serverNow = typeof answer === 'boolean' ? NaN : answer.now;
          link.answered(id, clockBefore, serverNow, started);
          if (!this.closed) onAnswer(answer, sentEpoch);
        },
        (error: unknown) => {
          const outage = link.failed(id, error);
          if (!this.closed) onError?.(outage, error);
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
   * The answer to this process's report, action or configure: apply it, or, when Redis has
   * lost the connection (expired, deleted, flushed, restarted empty), rebuild it from the view
   * and send the command again (with a new sequence number: the first was not applied, and the
   * rebuild recorded a later one).
   */
  private answered(
    entry: Entry,
    reply: ScriptReply,
    resend: (s: RedisScripts, seq: number) => Promise<ScriptReply>,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number,
  ): void {
    if (reply.found) return this.ingest(entry, reply, kind, reason, sentEpoch);
    if (!this.core.current(entry)) return;
    void this.sync(entry, () => {
      const seq = this.nextSeq();
      void this.send(
        (s) => resend(s, seq),
        (again, epoch) => {
          if (again.found) this.ingest(entry, again, kind, reason, epoch);
        },
      );
    });
  }

  /** See StoreCore.sync. */
  private sync(entry: Entry, then?: () => void): Promise<void> | undefined {
    const { record } = entry;
    if (entry.syncing === null && entry.offline !== null) {
      entry.syncing = { seq: this.nextSeq(), counts: entry.offline };
      entry.offline = null;
    }
    const frozen = entry.syncing;
    const seq = frozen?.seq ?? this.nextSeq();
    const offset = this.link.offset;
    const seed = seedOf(entry, offset);
    const delta = deltaOf(frozen?.counts ?? null, offset);
    entry.needsRegister = false;
    return this.send(
      (s) => s.sync(record, record.options, record.metadata, seed, delta, seq),
      (reply, sentEpoch) => {
        if (entry.syncing === frozen) entry.syncing = null;
        if (!reply.found) return;
        entry.broken = false;
        this.ingest(entry, reply, 'sync', null, sentEpoch);
        // Outcomes counted offline while this was in flight go in the next one.
        if (entry.offline !== null && this.core.online) void this.sync(entry);
        then?.();
      },
      (outage, error) => {
        entry.needsRegister = true;
        if (!outage) this.upkeep.broke(entry, error);
      },
    );
  }

  /** A change announced by some process's script. */
  private onMessage(payload: string): void {
    const message = parseAnnouncement(payload);
    if (message === null || message.source === this.linked?.source) return; // own: from the reply
    const entry = this.index.get(message.identifier, message.scope);
    if (entry === undefined) return;
    this.ingest(entry, message.result, message.kind, message.reason, null);
  }

  /**
   * Brings the local view to a state from Redis and emits what changed. `sentEpoch`: the
   * answer to this process's command sent at that hint count; `null`: an announcement.
   */
  private ingest(
    entry: Entry,
    result: ScriptResult,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number | null,
  ): void {
    if (!this.core.current(entry)) return; // unregistered meanwhile: nothing to tell
    const host = this.host;
    const { record } = entry;
    const remote = result.connection;
    const own = sentEpoch !== null;
    const verdict = own ? judgeAnswer(entry, remote, sentEpoch) : judgeHint(entry, remote);
    if (verdict === 'verify') this.upkeep.verify(entry);
    if (verdict !== 'apply') {
      // Overtaken by a newer state: still tell this process's listeners about its call.
      if (own && (kind === 'success' || kind === 'failure'))
        this.changed(entry, kind, record.circuit.state, reason, 'local');
      return;
    }
    if (result.expired && record.circuit.state === 'open') {
      settleLocally(host, record, Number.MAX_SAFE_INTEGER); // the expiry this script recorded
    }
    const before = record.circuit.state;
    const bornBefore = entry.born;
    if (kind === 'configure') adoptOptions(entry, remote);
    writeRemote(entry, remote, this.link.offset, own);
    const to = record.circuit.state;
    if (!own) {
      entry.hintEpoch = ++this.hints;
      // A hint that moves the state is checked against Redis (it may be forged or stale).
      if (before !== to || bornBefore !== remote.registeredAt) this.upkeep.verify(entry);
    } else if (!result.announced && (kind === 'success' || kind === 'failure')) {
      this.upkeep.refresh(entry);
    }
    const origin: ChangeOrigin = own && kind !== 'sync' ? 'local' : 'remote';
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
    if (state !== from || state !== 'half_open') this.leases.reset(entry);
    this.host.committed(entry.record, kind, from, reason, origin);
    if (state === 'half_open' && from !== 'half_open') this.leases.acquire(entry);
  }

  private entryOf(record: ConnectionRecord): Entry | undefined {
    const entry = this.index.get(record.identifier, record.scope);
    return entry?.record === record ? entry : undefined;
  }
}

function* mapIterator<T, U>(source: IterableIterator<T>, f: (t: T) => U): IterableIterator<U> {
  for (const item of source) yield f(item);
}
