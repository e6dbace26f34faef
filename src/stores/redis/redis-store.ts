/**
 * Fleet mode: a store whose truth lives in Redis, shared by every process using the same
 * prefix. The local view (the records) answers `isAvailable` with no I/O; every report and
 * action runs one Lua script in Redis and the authoritative result comes back into the view
 * (from the script's reply for this process, from a pub/sub announcement for the others).
 * See docs/architecture.md, "Fleet mode"; the parts: link.ts and health.ts (connections and
 * degraded mode), view.ts (which state wins), leases.ts, resync.ts, upkeep.ts.
 */
import { BramaError } from '../../core/errors.js';
import { addOutcome, emptyBatch, isEmptyBatch } from '../../core/outcome-batch.js';
import { reasonText, type ConnectionRecord } from '../../core/record.js';
import { isSlow } from '../../core/rate-policy.js';
import { admit } from '../../core/transitions.js';
import { actLocally, admitLocally, reportLocally, settleLocally } from '../local-apply.js';
import {
  NO_DETAILS,
  type ConnectionStore,
  type ManualAction,
  type Outcome,
  type OutcomeDetails,
  type RemovalCause,
  type StoreHost,
} from '../store.js';
import { Applier } from './apply.js';
import { Coalescer, type PendingBatch } from './coalescer.js';
import { RedisScripts } from './commands.js';
import { StoreContext } from './context.js';
import { connectionTag } from './keys.js';
import { Leases } from './leases.js';
import { RedisLink, within, type ClientFactory } from './link.js';
import type { RedisStoreSettings } from './options.js';
import type { ReportReply, ScriptReply } from './reply.js';
import { Resync } from './resync.js';
import { REFRESH_MS, Upkeep } from './upkeep.js';
import { countOffline, createEntry, type Entry, type Lease } from './view.js';

/** The Redis-backed store of `brama/redis`. Create it with `createRedisStore`. */
export class RedisStore implements ConnectionStore {
  private readonly ctx: StoreContext;
  private readonly leases: Leases;
  private readonly upkeep: Upkeep;
  private readonly resyncer: Resync;
  private readonly applier: Applier;
  private readonly coalescer: Coalescer;
  /** True only while degraded under `'refuse'` (read on the hot path). */
  private refusing = false;

  /** @internal Use `createRedisStore`. */
  static create(settings: RedisStoreSettings, factory: ClientFactory | null): RedisStore {
    return new RedisStore(settings, factory);
  }

  /** Use `createRedisStore`. */
  private constructor(
    private readonly settings: RedisStoreSettings,
    private readonly factory: ClientFactory | null,
  ) {
    const ctx = new StoreContext(settings);
    this.ctx = ctx;
    this.leases = new Leases(ctx);
    this.upkeep = new Upkeep(ctx);
    this.resyncer = new Resync(ctx);
    this.applier = new Applier(ctx, this.leases, this.upkeep);
    this.coalescer = new Coalescer((entry, pending) => this.sendBatch(entry, pending));
    const { applier, resyncer, upkeep } = this;
    ctx.parts = {
      ingest: (entry, result, kind, reason, sentEpoch) =>
        applier.ingest(entry, result, kind, reason, sentEpoch),
      counters: (entry, counters, sentEpoch) => applier.counters(entry, counters, sentEpoch),
      get hints() {
        return applier.hints;
      },
      sync: (entry, then) => resyncer.sync(entry, then),
      broke: (entry, error) => upkeep.broke(entry, error),
      unreachable: (entry) => upkeep.unreachable(entry),
      repair: (entry) => resyncer.repair(entry),
    };
  }

  /** The key prefix this store shares state under. */
  get prefix(): string {
    return this.settings.prefix;
  }

  /** Whether the store currently works on local state because Redis is unreachable or slow. */
  get degraded(): boolean {
    return this.ctx.attached && this.ctx.link.degraded;
  }

  /**
   * Resolves once the store is attached and subscribed to changes (or the attempt failed and
   * the store is degraded: check {@link degraded}). Never rejects.
   */
  async ready(): Promise<void> {
    if (this.ctx.attached) await this.ctx.link.ready();
  }

  /**
   * Resolves once every command sent so far (and a reconciliation under way) has been answered
   * and its result applied to the local view (for tests and graceful shutdown), or as soon as
   * the store is degraded (Redis is not answering: waiting would not end). Never rejects.
   */
  flush(): Promise<void> {
    this.coalescer.flushAll();
    return this.ctx.flush();
  }

  attach(host: StoreHost): void {
    if (this.ctx.attached) {
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        'Invalid option "store": expected a store no other Brama instance uses, received a RedisStore that is already attached',
      );
    }
    if (this.ctx.closed) throw new BramaError('BRAMA_CLOSED', 'This RedisStore is closed');
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
    this.ctx.attach(host, link, scripts);
    link.start({
      message: (payload) => this.applier.announced(payload),
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
    return this.ctx.index.size;
  }

  get(identifier: string, scope: string | null): ConnectionRecord | undefined {
    return this.ctx.index.get(identifier, scope)?.record;
  }

  insert(record: ConnectionRecord): void {
    const entry = createEntry(record);
    this.ctx.index.set(record.identifier, record.scope, entry);
    if (!this.ctx.online) {
      entry.needsRegister = true;
      return;
    }
    void this.ctx.send(
      (s) => s.register(record, record.options, record.metadata),
      (reply, sentEpoch) => {
        if (reply.found) this.ctx.ingest(entry, reply, 'sync', null, sentEpoch);
      },
      (outage, error) => {
        entry.needsRegister = true;
        if (!outage) this.upkeep.broke(entry, error);
      },
      entry,
    );
  }

  remove(record: ConnectionRecord, cause: RemovalCause): boolean {
    const index = this.ctx.index;
    const entry = index.get(record.identifier, record.scope);
    if (entry?.record !== record) return false;
    this.coalescer.flush(entry); // reported before it left: still counts
    if (!index.delete(record.identifier, record.scope, entry)) return false;
    this.leases.drop(entry);
    this.upkeep.forget(entry);
    if (cause === 'unregister')
      this.resyncer.delete(connectionTag(record.identifier, record.scope), record);
    return true;
  }

  records(): IterableIterator<ConnectionRecord> {
    return mapIterator(this.ctx.index.values(), (entry) => entry.record);
  }

  settle(record: ConnectionRecord, now: number): void {
    const host = this.ctx.host;
    const from = record.circuit.state;
    settleLocally(host, record, now);
    if (from === 'open' && record.circuit.state === 'half_open') {
      const entry = this.entryOf(record);
      if (entry !== undefined) this.leases.acquire(entry);
    }
  }

  admit(record: ConnectionRecord): boolean {
    const c = record.circuit;
    // The hot path: no I/O, no clock; `refusing` is true only while degraded under 'refuse'.
    if ((c.state === 'closed' && c.rampFrom === null) || c.state === 'unknown')
      return !this.refusing;
    return this.answer(record, true);
  }

  wouldAdmit(record: ConnectionRecord): boolean {
    const c = record.circuit;
    if ((c.state === 'closed' && c.rampFrom === null) || c.state === 'unknown')
      return !this.refusing;
    return this.answer(record, false);
  }

  /**
   * `admit` (`take`: a half-open call takes a leased slot, or asks for one) and `wouldAdmit`
   * (nothing taken) beyond the hot path: the degraded policy, a ramp-up, the leases; in
   * `'shadow'` mode, yes after the same bookkeeping.
   */
  private answer(record: ConnectionRecord, take: boolean): boolean {
    const host = this.ctx.host;
    const entry = this.entryOf(record);
    if (this.degraded || this.refusing) {
      const policy = this.settings.degradedPolicy;
      if (policy === 'allow') return true;
      if (policy === 'refuse') return false;
    }
    if (take && (entry === undefined || !this.ctx.online || entry.local !== null))
      return admitLocally(host, record);
    const now = host.clock.now();
    this.settle(record, now);
    const settings = host.settingsOf(record);
    const shadow = settings.mode === 'shadow';
    const state = record.circuit.state;
    if (state !== 'half_open' || entry === undefined || !this.ctx.online || entry.local !== null) {
      const next = admit(record.circuit, settings, now, host.random);
      // A ramp-up that ended: the view's hot path is back until Redis' next state.
      if (take && next !== null && state === 'closed') record.circuit = next;
      return next !== null || shadow;
    }
    return (take ? this.leases.admit(entry, now) : this.leases.holds(entry, now)) || shadow;
  }

  report(
    record: ConnectionRecord,
    outcome: Outcome,
    now: number,
    reason: unknown,
    details: OutcomeDetails = NO_DETAILS,
  ): void {
    const host = this.ctx.host;
    const entry = this.entryOf(record);
    // Computed once, before anything is applied: a reason that cannot become text must not
    // leave the outcome half counted.
    const text = reasonText(reason);
    if (entry === undefined) return reportLocally(host, record, outcome, now, reason, details);
    const lease = this.leases.take(entry);
    if (!this.ctx.online || entry.local !== null) {
      this.coalescer.flush(entry);
      reportLocally(host, record, outcome, now, reason, details);
      countOffline(entry, outcome, now, text);
      return;
    }
    if (outcome === 'ignore') {
      if (lease === undefined) return; // nothing to release
      this.coalescer.flush(entry);
      return this.sendBatch(entry, { batch: emptyBatch(), outcomes: [] }, lease);
    }
    const settings = host.settingsOf(record);
    const slow = isSlow(details.durationMs, settings);
    const retryAfterMs = outcome === 'failure' ? (details.retryAfterMs ?? null) : null;
    const reported = { outcome, reason, text, at: now, details, slow };
    if (lease === undefined && retryAfterMs === null)
      return this.coalescer.add(entry, reported, settings);
    // A trial's outcome, or a failure that asks for a pause, goes on its own.
    this.coalescer.flush(entry);
    const pending: PendingBatch = { batch: emptyBatch(), outcomes: [reported] };
    addOutcome(pending.batch, outcome, text, slow);
    this.sendBatch(entry, pending, lease, retryAfterMs);
  }

  /** Sends a batch of outcomes (and a trial's lease); applies it locally when Redis is gone. */
  private sendBatch(
    entry: Entry,
    pending: PendingBatch,
    lease?: Lease,
    retryAfterMs: number | null = null,
  ): void {
    const ctx = this.ctx;
    const { record } = entry;
    if (!ctx.current(entry)) return;
    const host = ctx.host;
    const local = (count: boolean): void => {
      entry.diverged = true;
      for (const o of pending.outcomes) {
        reportLocally(host, record, o.outcome, o.at, o.reason, o.details);
        if (count) countOffline(entry, o.outcome, o.at, o.text);
      }
    };
    if (!ctx.online || entry.local !== null) return local(true);
    const seq = ctx.nextSeq();
    const settings = host.settingsOf(record);
    const send = (s: RedisScripts, n: number): Promise<ReportReply> =>
      s.reportBatch(
        record,
        settings,
        pending.batch,
        lease?.token ?? null,
        lease?.generation ?? null,
        n,
        'apply',
        retryAfterMs,
      );
    void ctx.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.applier.reported(entry, reply, pending, send, sentEpoch),
      (outage, error) => {
        if (isEmptyBatch(pending.batch)) return;
        if (outage) {
          // Maybe applied before the connection failed: replayed with its number on recovery.
          local(false);
          entry.unacked.push({ seq, batch: pending.batch });
        } else {
          // Not applied when Redis refused the script; applied when only its reply was bad.
          local(!(error instanceof BramaError));
          this.upkeep.broke(entry, error);
        }
      },
      entry,
    );
  }

  act(
    record: ConnectionRecord,
    action: ManualAction,
    now: number,
    reason: unknown,
    expiry: number | null,
  ): void {
    const host = this.ctx.host;
    const entry = this.entryOf(record);
    const text = reasonText(reason);
    if (entry !== undefined) this.coalescer.flush(entry); // outcomes reported before it first
    const local = (): void => {
      actLocally(host, record, action, now, reason, expiry);
      if (entry === undefined) return;
      entry.pendingAction = { action, reason: text, expiry };
      entry.diverged = true;
    };
    if (entry === undefined || !this.ctx.online || entry.local !== null) return local();
    const seq = this.ctx.nextSeq();
    const send = (s: RedisScripts, n: number): Promise<ScriptReply> =>
      s.act(record, host.settingsOf(record), action, expiry, text, n);
    void this.ctx.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.applier.answered(entry, reply, send, action, reason, sentEpoch),
      (outage, error) => {
        local();
        if (!outage) this.upkeep.broke(entry, error);
      },
      entry,
    );
  }

  reconfigured(record: ConnectionRecord): void {
    const entry = this.entryOf(record);
    if (entry === undefined) return;
    this.coalescer.flush(entry);
    if (!this.ctx.online || entry.local !== null) {
      entry.needsConfigure = true;
      return;
    }
    const seq = this.ctx.nextSeq();
    const send = (s: RedisScripts, n: number): Promise<ScriptReply> =>
      s.configure(record, record.options, record.metadata, n);
    void this.ctx.send(
      (s) => send(s, seq),
      (reply, sentEpoch) => this.applier.answered(entry, reply, send, 'configure', null, sentEpoch),
      (outage, error) => {
        entry.needsConfigure = true;
        if (!outage) this.upkeep.broke(entry, error);
      },
      entry,
    );
  }

  async close(): Promise<void> {
    const ctx = this.ctx;
    if (ctx.closed) return;
    this.upkeep.close();
    for (const entry of ctx.index.values()) this.leases.drop(entry);
    await within(this.flush(), this.settings.commandTimeout);
    ctx.closed = true;
    ctx.index.clear();
    if (ctx.attached) await ctx.link.close();
  }

  private entryOf(record: ConnectionRecord): Entry | undefined {
    const entry = this.ctx.index.get(record.identifier, record.scope);
    return entry?.record === record ? entry : undefined;
  }
}

function* mapIterator<T, U>(source: IterableIterator<T>, f: (t: T) => U): IterableIterator<U> {
  for (const item of source) yield f(item);
}
