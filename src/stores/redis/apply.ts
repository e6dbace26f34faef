/**
 * Applying states from Redis to the Redis store's views: answers to this process's commands and
 * announcements from every process (view.ts decides which state wins), and the events the
 * registry emits for them.
 */
import type { CircuitState } from '../../core/state.js';
import type { ChangeOrigin } from '../../events/types.js';
import { settleLocally } from '../local-apply.js';
import type { ChangeKind } from '../store.js';
import type { StoreContext } from './context.js';
import type { Leases } from './leases.js';
import type { RedisScripts } from './commands.js';
import type { PendingBatch } from './coalescer.js';
import type { Counters, LeanReply, ReportReply, ScriptReply, ScriptResult } from './reply.js';
import type { Upkeep } from './upkeep.js';
import { MANUAL_ACTIONS, parseAnnouncement } from './announcement.js';
import {
  adoptOptions,
  judgeAnswer,
  judgeHint,
  writeAllCounters,
  writeCounters,
  writeRemote,
  type Entry,
} from './view.js';

/** Applies states from Redis to one store's views. */
export class Applier {
  /** Bumped whenever an announcement is applied to a view (see view.ts judgeAnswer). */
  hints = 0;

  constructor(
    private readonly ctx: StoreContext,
    private readonly leases: Leases,
    private readonly upkeep: Upkeep,
  ) {}

  /**
   * The answer to this process's report, action or configure: apply it, or, when Redis has
   * lost the connection (expired, deleted, flushed, restarted empty), rebuild it from the view
   * and send the command again (with a new sequence number: the first was not applied, and the
   * rebuild recorded a later one).
   */
  answered(
    entry: Entry,
    reply: ScriptReply,
    resend: (s: RedisScripts, seq: number) => Promise<ScriptReply>,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number,
  ): void {
    if (reply.found) return this.ingest(entry, reply, kind, reason, sentEpoch);
    if (!this.ctx.current(entry)) return;
    void this.ctx.sync(entry, () => {
      const seq = this.ctx.nextSeq();
      void this.ctx.send(
        (s) => resend(s, seq),
        (again, epoch) => {
          if (again.found) this.ingest(entry, again, kind, reason, epoch);
        },
        undefined,
        entry,
      );
    });
  }

  /**
   * The answer to a batch of this process's outcomes (or to one trial's): Redis lost the
   * connection (rebuild it and send the batch again), only counters moved (lean), or the whole
   * connection came back. Every outcome's event is emitted; a transition names the outcome that
   * caused it (the failure that tripped, the success that closed), after the others.
   */
  reported(
    entry: Entry,
    reply: ReportReply,
    pending: PendingBatch,
    resend: (s: RedisScripts, seq: number) => Promise<ReportReply>,
    sentEpoch: number,
  ): void {
    const ctx = this.ctx;
    if (reply.found === false) {
      if (!ctx.current(entry)) return;
      void ctx.sync(entry, () => {
        const seq = ctx.nextSeq();
        void ctx.send(
          (s) => resend(s, seq),
          (again, epoch) => {
            if (again.found !== false) this.reported(entry, again, pending, resend, epoch);
          },
          undefined,
          entry,
        );
      });
      return;
    }
    if (reply.found === 'lean') return this.counted(entry, reply, pending, sentEpoch);
    const { outcomes, batch } = pending;
    let cause = outcomes.length - 1;
    if (reply.transitioned) {
      const tripped =
        reply.connection.circuit.state === 'open' || (reply.from === 'unknown' && batch.head > 0);
      const wanted = tripped ? 'failure' : 'success';
      cause = -1;
      for (let i = 0; i < outcomes.length && (tripped || cause < 0); i++)
        if (outcomes[i]!.outcome === wanted) cause = i; // the last failure, the first success
    }
    const main = outcomes[cause];
    const others = (): void => {
      const state = entry.record.circuit.state;
      outcomes.forEach((o, i) => {
        if (i !== cause) ctx.host.committed(entry.record, o.outcome, state, o.reason, 'local');
      });
    };
    this.ingest(entry, reply, main?.outcome ?? 'ignore', main?.reason ?? null, sentEpoch, others);
  }

  /** A lean answer: counters only. Anything it cannot settle is read back in full. */
  private counted(entry: Entry, reply: LeanReply, pending: PendingBatch, sentEpoch: number): void {
    const ctx = this.ctx;
    if (!ctx.current(entry)) return;
    const { record } = entry;
    const same = reply.registeredAt === entry.born;
    const newer = same && (sentEpoch >= entry.hintEpoch || reply.version > entry.version);
    if (entry.diverged) {
      // The sync that carries this view's local changes brings the counters.
    } else if (newer && reply.state === record.circuit.state) {
      writeCounters(entry, reply, pending.batch, ctx.link.offset);
    } else if (!same || reply.state !== record.circuit.state) {
      // Another incarnation, or a state this view has not seen: read it back (shortly, so that
      // the announcement of that change can come first and keep its cause), and let flush()
      // wait for it: this process's own answer says its view is behind.
      ctx.track(this.upkeep.verified(entry));
    }
    for (const o of pending.outcomes)
      ctx.host.committed(record, o.outcome, record.circuit.state, o.reason, 'local');
    if (reply.announced) this.upkeep.covered(entry, reply.registeredAt, reply.version);
    else this.upkeep.leftUnannounced(entry, reply);
  }

  /** How this process's own announcements start (scripts/prelude.ts `publish`). */
  private own: string | null = null;

  /** A change announced by some process's script. */
  announced(payload: string): void {
    this.own ??= `{"source":${JSON.stringify(this.ctx.link.source)},`;
    if (payload.startsWith(this.own)) return; // own: the reply brings it
    const message = parseAnnouncement(payload);
    if (message === null || message.source === this.ctx.link.source) return; // own: the reply
    const entry = this.ctx.index.get(message.identifier, message.scope);
    if (entry === undefined) return;
    if (message.kind === 'counters') return this.counters(entry, message.counters, null);
    this.ingest(entry, message.result, message.kind, message.reason, null);
  }

  /**
   * Counters from Redis (scripts/counters.ts): announced by a process (`sentEpoch` null), or the
   * answer to this process's refresh. They apply only to the state they belong to (the view's
   * registeredAt, state and generation) and only when newer than what the view holds (by the
   * rules of view.ts); counters of another state make the view read the connection back.
   */
  counters(entry: Entry, counters: Counters, sentEpoch: number | null): void {
    const ctx = this.ctx;
    if (!ctx.current(entry)) return;
    const own = sentEpoch !== null;
    if (!own || counters.announced)
      this.upkeep.covered(entry, counters.registeredAt, counters.version);
    if (entry.diverged || entry.born < 0) return; // the view's own sync or register answer comes
    if (counters.registeredAt !== entry.born) return this.upkeep.verify(entry);
    const newer = own
      ? sentEpoch >= entry.hintEpoch || counters.version > entry.version
      : counters.version > entry.version &&
        (entry.trustedBorn !== counters.registeredAt || counters.version > entry.trustedVersion);
    if (!newer) return;
    const c = entry.record.circuit;
    if (counters.state !== c.state || counters.generation !== c.generation)
      return this.upkeep.verify(entry);
    writeAllCounters(entry, counters, ctx.link.offset, own);
    if (!own) entry.hintEpoch = ++this.hints;
  }

  /**
   * Brings the local view to a state from Redis and emits what changed. `sentEpoch`: the
   * answer to this process's command sent at that hint count; `null`: an announcement.
   */
  ingest(
    entry: Entry,
    result: ScriptResult,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number | null,
    prelude?: () => void,
  ): void {
    const ctx = this.ctx;
    if (!ctx.current(entry)) return; // unregistered meanwhile: nothing to tell
    const { record } = entry;
    const remote = result.connection;
    const own = sentEpoch !== null;
    if (!own || result.announced) this.upkeep.covered(entry, remote.registeredAt, remote.version);
    // A view holding local changes waits for the sync that carries them (view.ts diverged).
    const verdict = entry.diverged
      ? 'ignore'
      : own
        ? judgeAnswer(entry, remote, sentEpoch)
        : judgeHint(entry, remote);
    if (verdict === 'verify') this.upkeep.verify(entry);
    if (verdict !== 'apply') {
      // Overtaken by a newer state: still tell this process's listeners about its calls.
      prelude?.();
      if (own && (kind === 'success' || kind === 'failure'))
        this.changed(entry, kind, record.circuit.state, reason, 'local');
      return;
    }
    if (result.expired && record.circuit.state === 'open') {
      settleLocally(ctx.host, record, Number.MAX_SAFE_INTEGER); // the expiry this script recorded
    }
    const before = record.circuit.state;
    const bornBefore = entry.born;
    if (kind === 'configure') adoptOptions(entry, remote);
    writeRemote(entry, remote, ctx.link.offset, own);
    const to = record.circuit.state;
    if (!own) {
      entry.hintEpoch = ++this.hints;
      // A hint that moves the state is checked against Redis (it may be forged or stale).
      if (before !== to || bornBefore !== remote.registeredAt) this.upkeep.verify(entry);
    } else if (!result.announced && (kind === 'success' || kind === 'failure')) {
      this.upkeep.refresh(entry, remote.version);
    }
    prelude?.();
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
    this.ctx.host.committed(entry.record, kind, from, reason, origin);
    if (state === 'half_open' && from !== 'half_open') this.leases.acquire(entry);
  }
}
