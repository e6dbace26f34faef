/**
 * The Redis store's local view of one connection: the record plus what the store tracks beside
 * it, and the pure steps between the view and Redis: which incoming state to apply, copying a
 * Redis state in (server time → registry clock), what recreates a lost connection, and the
 * decoding of announcements.
 *
 * **Which state wins.** Answers to this process's commands arrive in execution order, so an
 * answer to a command sent after everything the view has applied is the truth as of its
 * execution: it applies whatever its version (Redis restarted from an older snapshot, a server
 * clock that went back: Redis wins). Announcements arrive in execution order on the
 * subscription, but are hints: one could be forged, or come from a Redis that has since lost
 * it. A hint applies when it is newer than the last answer, and a hint that changes the state
 * is checked by reading the connection back (an answer sent after it), so a wrong hint cannot
 * hold a view for longer than one round trip. A view holding changes made while Redis could
 * not be told takes neither until its sync is answered (see {@link Entry.diverged}).
 * Announcements are decoded in announcement.ts.
 */
import type { ConnectionRecord } from '../../core/record.js';
import type { OutcomeWindowSpec } from '../../core/settings.js';
import { circuit, NO_TRIALS } from '../../core/state.js';
import { snapshotWindow } from '../../core/window.js';
import { withFailures } from '../../core/transitions.js';
import type { ManualAction, Outcome, OutcomeDetails } from '../store.js';
import type { OutcomeBatch } from '../../core/outcome-batch.js';
import type { ConnectionDelta, ConnectionSeed } from './commands.js';
import type { Counters, LeanReply, RemoteConnection } from './reply.js';

/** A half-open trial slot leased in Redis. */
export interface Lease {
  readonly token: string;
  /** The generation it was granted in: its result is fenced with it. */
  readonly generation: number;
  /** Registry clock time after which it must not be handed to a call any more. */
  readonly handUntil: number;
}

/** A manual action made while degraded, replayed on recovery. */
export interface PendingAction {
  readonly action: ManualAction;
  readonly reason: string | null;
  readonly expiry: number | null;
}

/** A report sent without an answer before an outage: replayed once Redis answers again. */
export interface UnackedReport {
  readonly seq: number;
  readonly batch: OutcomeBatch;
}

/** Outcomes counted while degraded, in the registry clock. */
export interface OfflineCounts {
  successes: number;
  failures: number;
  lastFailureTime: number | null;
  lastFailureReason: string | null;
  lastSuccessTime: number | null;
}

/** One outcome of a batch, kept for its event and for applying it locally if Redis is gone. */
export interface BatchedOutcome {
  readonly outcome: 'success' | 'failure';
  /** The reason as the caller gave it (events carry it unchanged). */
  readonly reason: unknown;
  /** Its text, as `lastFailureReason` keeps it. */
  readonly text: string | null;
  /** When it was reported (registry clock). */
  readonly at: number;
  /** Its duration and retry-after, as reported. */
  readonly details: OutcomeDetails;
  /** Whether it was slow under the connection's settings when reported. */
  readonly slow: boolean;
}

/** The outcomes of one connection waiting to leave. */
export interface PendingBatch {
  readonly batch: OutcomeBatch;
  readonly outcomes: BatchedOutcome[];
}

/** The store's bookkeeping beside one record. */
export interface Entry {
  readonly record: ConnectionRecord;
  /** The state in the view: its registeredAt (-1: nothing loaded) and version. */
  born: number;
  version: number;
  /** The state of the last answer to one of this process's commands. */
  trustedBorn: number;
  trustedVersion: number;
  /** The store's hint counter when an announcement was last applied (0: never). */
  hintEpoch: number;
  /** Leases acquired and not yet handed to a call. */
  free: Lease[];
  /** Leases handed to admitted calls that have not reported yet. */
  active: Lease[];
  acquiring: boolean;
  /** Registry clock time before which no new lease is requested (after a refusal). */
  retryAt: number;
  /** Lease requests answered "no such connection" in a row (backs the next one off). */
  misses: number;
  hold: ReturnType<typeof setTimeout> | null;
  /** Work to replay after a degraded period (bounded: one of each per connection). */
  needsRegister: boolean;
  needsConfigure: boolean;
  pendingAction: PendingAction | null;
  unacked: UnackedReport[];
  /** Outcomes reported this tick, not yet sent (coalescer.ts). */
  pending: PendingBatch | null;
  /** Outcomes counted while degraded, not yet sent. */
  offline: OfflineCounts | null;
  /** Offline outcomes sent in a sync that has not been answered (resent with its `seq`). */
  syncing: { readonly seq: number; readonly counts: OfflineCounts } | null;
  /** A read should confirm the view (a hint changed it). */
  verify: boolean;
  verifying: boolean;
  /**
   * Why the connection works on local state while the store does not: Redis holds data for it
   * this version cannot use (`'broken'`, until fixed), or, in a cluster, its node does not
   * answer (`'unreachable'`). `null`: shared as usual.
   */
  local: 'broken' | 'unreachable' | null;
  /**
   * The view holds changes applied locally (while degraded or local) that Redis has not seen:
   * until the answer of the sync that carries them, no other answer or announcement overwrites
   * it, so the sync's seed still has them (a local trip wins a rebuild, see scripts/sync.ts).
   */
  diverged: boolean;
}

/** A fresh entry: nothing loaded from Redis yet. */
export function createEntry(record: ConnectionRecord): Entry {
  return {
    record,
    born: -1,
    version: -1,
    trustedBorn: -1,
    trustedVersion: -1,
    hintEpoch: 0,
    free: [],
    active: [],
    acquiring: false,
    retryAt: 0,
    misses: 0,
    hold: null,
    needsRegister: false,
    needsConfigure: false,
    pendingAction: null,
    unacked: [],
    pending: null,
    offline: null,
    syncing: null,
    verify: false,
    verifying: false,
    local: null,
    diverged: false,
  };
}

/** What to do with an incoming state. */
export type Verdict = 'apply' | 'ignore' | 'verify';

/**
 * An answer to this process's command, sent when the store's hint counter was `sentEpoch`:
 * the truth if no hint was applied to this entry since; otherwise only if it is the newer.
 */
export function judgeAnswer(entry: Entry, remote: RemoteConnection, sentEpoch: number): Verdict {
  if (entry.born < 0 || sentEpoch >= entry.hintEpoch) return 'apply';
  if (remote.registeredAt !== entry.born) return 'verify';
  return remote.version > entry.version ? 'apply' : 'ignore';
}

/** An announcement: applies when newer than the last answer (see the file comment). */
export function judgeHint(entry: Entry, remote: RemoteConnection): Verdict {
  if (entry.trustedBorn < 0 || remote.registeredAt !== entry.trustedBorn) return 'apply';
  return remote.version > entry.trustedVersion ? 'apply' : 'ignore';
}

/**
 * Copies a Redis state into the record; `offset` = server time − registry clock; `trusted`:
 * it is an answer to this process's command (see {@link judgeAnswer}).
 */
export function writeRemote(
  entry: Entry,
  remote: RemoteConnection,
  offset: number,
  trusted: boolean,
): void {
  const record = entry.record;
  const local = (t: number | null): number | null => (t === null ? null : t - offset);
  const c = remote.circuit;
  record.circuit = circuit(
    c.state,
    c.failureCount,
    local(c.openedAt),
    local(c.openUntil),
    c.openings,
    NO_TRIALS,
    c.changedAt - offset,
    c.generation,
    c.trialSuccesses,
    local(c.rampFrom),
  );
  record.trip = remote.trip;
  const w = remote.window;
  // The counts of Redis' window, under the shape it was kept with (the settings' shape when it
  // has the same kind).
  record.window = w === null ? null : snapshotWindow(windowSpecOf(record, w.calls), w);
  // Outcomes counted while degraded are not in Redis yet: keep them in the view's totals.
  record.totalFailures = remote.totalFailures + notSent(entry, 'failures');
  record.totalSuccesses = remote.totalSuccesses + notSent(entry, 'successes');
  record.lastFailureTime = local(remote.lastFailureTime);
  record.lastFailureReason = remote.lastFailureReason;
  record.lastSuccessTime = local(remote.lastSuccessTime);
  record.lastActivityAt = Math.max(record.lastActivityAt, remote.lastActivityAt - offset);
  entry.born = remote.registeredAt;
  entry.version = remote.version;
  if (trusted) {
    entry.trustedBorn = remote.registeredAt;
    entry.trustedVersion = remote.version;
  }
}

/** The consecutive count and the totals Redis holds, plus this view's outcomes not yet sent. */
function writeCounts(
  entry: Entry,
  counts: { failureCount: number; totalFailures: number; totalSuccesses: number },
): void {
  const record = entry.record;
  const c = record.circuit;
  if (c.failureCount !== counts.failureCount) record.circuit = withFailures(c, counts.failureCount);
  record.totalFailures = counts.totalFailures + notSent(entry, 'failures');
  record.totalSuccesses = counts.totalSuccesses + notSent(entry, 'successes');
}

/**
 * Copies the counters of a lean report reply (scripts/report.ts) into the record: the batch of
 * this process that the reply answers supplies the reason and times. The caller checked that
 * the reply is newer and of the view's state (else it reads the whole connection back).
 */
export function writeCounters(
  entry: Entry,
  reply: LeanReply,
  batch: OutcomeBatch,
  offset: number,
): void {
  const record = entry.record;
  writeCounts(entry, reply);
  const at = reply.now - offset;
  if (batch.failures > 0 && !reply.duplicate) {
    record.lastFailureTime = at;
    record.lastFailureReason = batch.lastFailureReason;
  }
  if (batch.successes > 0 && !reply.duplicate) record.lastSuccessTime = at;
  record.lastActivityAt = Math.max(record.lastActivityAt, at);
  entry.version = reply.version;
  entry.trustedBorn = reply.registeredAt;
  entry.trustedVersion = reply.version;
}

/**
 * Copies announced or refreshed counters (scripts/counters.ts) into the record. The caller
 * checked that they are newer than the view and belong to the state it holds (same
 * registeredAt, state and generation); `trusted` as for {@link writeRemote}.
 */
export function writeAllCounters(
  entry: Entry,
  counters: Counters,
  offset: number,
  trusted: boolean,
): void {
  const record = entry.record;
  const local = (t: number | null): number | null => (t === null ? null : t - offset);
  writeCounts(entry, counters);
  record.lastFailureTime = local(counters.lastFailureTime);
  record.lastFailureReason = counters.lastFailureReason;
  record.lastSuccessTime = local(counters.lastSuccessTime);
  record.lastActivityAt = Math.max(record.lastActivityAt, counters.lastActivityAt - offset);
  entry.version = counters.version;
  if (trusted) {
    entry.trustedBorn = counters.registeredAt;
    entry.trustedVersion = counters.version;
  }
}

/** The window shape to show Redis' counts under: the connection's own, else a count window. */
function windowSpecOf(record: ConnectionRecord, calls: number): OutcomeWindowSpec {
  const spec = record.settings?.window;
  return spec ?? { calls: Math.max(1, calls) };
}

/** Outcomes counted offline that Redis has not confirmed. */
function notSent(entry: Entry, what: 'failures' | 'successes'): number {
  return (entry.offline?.[what] ?? 0) + (entry.syncing?.counts[what] ?? 0);
}

/** Options and metadata configured by another process. */
export function adoptOptions(entry: Entry, remote: RemoteConnection): void {
  entry.record.options = remote.options;
  entry.record.metadata = remote.metadata;
  entry.record.settings = null;
}

/** Counts an outcome applied locally while degraded, to add to Redis' totals on recovery. */
export function countOffline(
  entry: Entry,
  outcome: Outcome,
  now: number,
  reason: string | null,
): void {
  if (outcome === 'ignore') return;
  entry.diverged = true;
  const o = (entry.offline ??= {
    successes: 0,
    failures: 0,
    lastFailureTime: null,
    lastFailureReason: null,
    lastSuccessTime: null,
  });
  if (outcome === 'success') {
    o.successes++;
    o.lastSuccessTime = now;
  } else {
    o.failures++;
    o.lastFailureTime = now;
    o.lastFailureReason = reason;
  }
}

/** What the view knows, in server time, to rebuild a connection Redis has lost. */
export function seedOf(entry: Entry, offset: number): ConnectionSeed {
  const r = entry.record;
  const c = r.circuit;
  const server = (t: number | null): number | null => (t === null ? null : t + offset);
  return {
    born: entry.born,
    state: c.state,
    failureCount: c.failureCount,
    openedAt: server(c.openedAt),
    openUntil: server(c.openUntil),
    openings: c.openings,
    changedAt: c.changedAt + offset,
    // The totals Redis last had: what was counted offline travels in the delta.
    totalFailures: r.totalFailures - notSent(entry, 'failures'),
    totalSuccesses: r.totalSuccesses - notSent(entry, 'successes'),
    lastFailureTime: server(r.lastFailureTime),
    lastFailureReason: r.lastFailureReason,
    lastSuccessTime: server(r.lastSuccessTime),
  };
}

/** Outcomes counted offline, in server time (`null` when none). */
export function deltaOf(o: OfflineCounts | null, offset: number): ConnectionDelta | null {
  if (o === null) return null;
  const server = (t: number | null): number | null => (t === null ? null : t + offset);
  return {
    successes: o.successes,
    failures: o.failures,
    lastFailureTime: server(o.lastFailureTime),
    lastFailureReason: o.lastFailureReason,
    lastSuccessTime: server(o.lastSuccessTime),
  };
}
