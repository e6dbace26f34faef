/**
 * What the parts of the Redis store share: its attachments (host, link, scripts), the index of
 * entries, the command sequence, and the one way to send a command and route its answer. The
 * parts (applier, leases, resync, upkeep) are wired in by the store. Internal.
 */
import { BramaError } from '../../core/errors.js';
import type { ChangeKind, StoreHost } from '../store.js';
import { ConnectionIndex } from '../connection-index.js';
import type { RedisScripts } from './commands.js';
import type { RedisLink } from './link.js';
import type { RedisStoreSettings } from './options.js';
import type { Counters, RefreshReply, ReportReply, ScriptResult } from './reply.js';
import type { Entry } from './view.js';

/** Handles a command's answer; `sentEpoch` is the hint count when it was sent (view.ts). */
export type OnAnswer<R> = (answer: R, sentEpoch: number) => void;

/**
 * Handles a command's failure: `outage` when Redis is unreachable or cannot serve (the store
 * degrades), otherwise the error is about this command (see `isOutage`).
 */
export type OnError = (outage: boolean, error: unknown) => void;

/** The parts the store wires into its context. */
export interface StoreParts {
  /** Brings the view to a state from Redis and emits what changed (`sentEpoch` null: a hint). */
  ingest(
    entry: Entry,
    result: ScriptResult,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number | null,
  ): void;
  /**
   * Brings the view to counters from Redis when they belong to the state it holds, else reads
   * the connection back (`sentEpoch` null: announced).
   */
  counters(entry: Entry, counters: Counters, sentEpoch: number | null): void;
  /** How many announcements were applied so far (see view.ts judgeAnswer). */
  readonly hints: number;
  /**
   * Rebuilds the connection in Redis from the view (or adds its offline outcomes); `then` runs
   * once the answer is applied. Resolves like {@link StoreContext.send}.
   */
  sync(entry: Entry, then?: () => void): Promise<void> | undefined;
  /** Redis holds data for this connection that cannot be used: handle it locally for now. */
  broke(entry: Entry, error: unknown): void;
  /** In a cluster, this connection's node does not answer: handle it locally for now. */
  unreachable(entry: Entry): void;
  /**
   * Replays what waited for one connection and syncs it (resync.ts); resolves once answered.
   */
  repair(entry: Entry): Promise<void>;
}

/** The shared state of one Redis store. */
export class StoreContext {
  readonly index = new ConnectionIndex<Entry>();
  parts: StoreParts | null = null;
  closed = false;
  private attachment: {
    readonly host: StoreHost;
    readonly link: RedisLink;
    readonly scripts: RedisScripts;
  } | null = null;
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;

  constructor(readonly settings: RedisStoreSettings) {}

  /** Binds the context to its registry and Redis (once). */
  attach(host: StoreHost, link: RedisLink, scripts: RedisScripts): void {
    this.attachment = { host, link, scripts };
  }

  get attached(): boolean {
    return this.attachment !== null;
  }

  get host(): StoreHost {
    return this.bound().host;
  }

  get link(): RedisLink {
    return this.bound().link;
  }

  get scripts(): RedisScripts {
    return this.bound().scripts;
  }

  get wired(): StoreParts {
    if (this.parts === null) throw new BramaError('BRAMA_CLOSED', 'RedisStore is not wired');
    return this.parts;
  }

  /** Whether commands go to Redis now (attached, not closed, not degraded). */
  get online(): boolean {
    return this.attachment !== null && !this.closed && !this.attachment.link.degraded;
  }

  /** The next sequence number for a command that must count once (scripts/common.ts). */
  nextSeq(): number {
    return ++this.seq;
  }

  /** See {@link StoreParts.ingest}. */
  readonly ingest: StoreParts['ingest'] = (entry, result, kind, reason, sentEpoch) =>
    this.wired.ingest(entry, result, kind, reason, sentEpoch);

  /** See {@link StoreParts.counters}. */
  counters(entry: Entry, counters: Counters, sentEpoch: number | null): void {
    this.wired.counters(entry, counters, sentEpoch);
  }

  /** See {@link StoreParts.sync}. */
  sync(entry: Entry, then?: () => void): Promise<void> | undefined {
    return this.wired.sync(entry, then);
  }

  /** See {@link StoreParts.broke}. */
  broke(entry: Entry, error: unknown): void {
    this.wired.broke(entry, error);
  }

  /** See {@link StoreParts.repair}. */
  repair(entry: Entry): Promise<void> {
    return this.wired.repair(entry);
  }

  /** Whether `entry` is still the registry's entry for its connection. */
  current(entry: Entry): boolean {
    return this.index.get(entry.record.identifier, entry.record.scope) === entry;
  }

  /** Every entry. */
  entries(): Entry[] {
    return [...this.index.values()];
  }

  /**
   * Sends a command about `entry` (if any) and routes its answer or failure. Resolves (never
   * rejects) once they were handled; `undefined` when nothing was sent (not attached, or
   * closed). In a cluster, an outage of the command's node makes that connection local (its
   * node may be the only one down) rather than degrading the whole store.
   */
  send<R extends ReportReply | RefreshReply | boolean>(
    command: (scripts: RedisScripts) => Promise<R>,
    onAnswer: OnAnswer<R>,
    onError?: OnError,
    entry?: Entry,
  ): Promise<void> | undefined {
    const attachment = this.attachment;
    if (attachment === null || this.closed) return undefined;
    const { link, scripts, host } = attachment;
    const id = link.begin();
    const started = performance.now();
    const clockBefore = host.clock.now();
    const sentEpoch = this.wired.hints;
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
          const shard = link.sharded && entry !== undefined;
          const outage = link.failed(id, error, !shard);
          if (this.closed) return;
          if (outage && shard && this.current(entry)) this.wired.unreachable(entry);
          onError?.(outage, error);
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
   * Makes {@link flush} wait for `work` too: what an answer left to do before the view has
   * caught up (a read back it asked for). `work` must never reject.
   */
  track(work: Promise<void>): void {
    const done = work.finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /**
   * Resolves once every command sent so far (and a reconciliation under way) has been answered
   * and applied, or as soon as the store is degraded. Never rejects.
   */
  async flush(): Promise<void> {
    const attachment = this.attachment;
    if (attachment === null) return;
    const health = attachment.link.health;
    // Follow-up commands (a lease request after a reply, a retry) count too; under a steady
    // stream of new commands, stop after a bounded number of rounds.
    for (let round = 0; round < 64 && !health.degraded; round++) {
      const resync = health.pendingResync;
      if (this.pending.size === 0 && resync === null) return;
      const degraded = health.whenDegraded();
      await Promise.race([Promise.allSettled([...this.pending, resync]), degraded.promise]);
      degraded.cancel();
    }
  }

  private bound(): NonNullable<StoreContext['attachment']> {
    if (this.attachment === null)
      throw new BramaError('BRAMA_CLOSED', 'RedisStore is not attached to a Brama instance');
    return this.attachment;
  }
}
