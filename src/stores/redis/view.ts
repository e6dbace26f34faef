/**
 * The Redis store's local view of one connection: the record plus what the store tracks beside
 * it, and the pure steps between the view and Redis: which state is newer, copying a Redis
 * state in (server time → registry clock), the seed that recreates a lost connection, and the
 * decoding of announcements.
 */
import type { ConnectionRecord } from '../../core/record.js';
import { circuit, NO_TRIALS } from '../../core/state.js';
import type { ChangeKind, ManualAction } from '../store.js';
import type { ConnectionSeed } from './commands.js';
import { decodeReply, type RemoteConnection, type ScriptResult } from './reply.js';

/** A half-open trial slot leased in Redis. */
export interface Lease {
  readonly token: string;
  /** The generation it was granted in: its result is fenced with it. */
  readonly generation: number;
  /** Registry clock time after which Redis no longer counts it. */
  readonly until: number;
}

/** A manual action made while degraded, replayed on recovery. */
export interface PendingAction {
  readonly action: ManualAction;
  readonly reason: string | null;
  readonly expiry: number | null;
}

/** The store's bookkeeping beside one record. */
export interface Entry {
  readonly record: ConnectionRecord;
  /** Version of the last state loaded from Redis: its registeredAt (-1: none), then generation. */
  born: number;
  generation: number;
  /** Leases acquired and not yet handed to a call. */
  free: Lease[];
  /** Leases handed to admitted calls that have not reported yet. */
  active: Lease[];
  acquiring: boolean;
  /** Registry clock time before which no new lease is requested (after a refusal). */
  retryAt: number;
  hold: ReturnType<typeof setTimeout> | null;
  /** Work to replay after a degraded period (one per kind: bounded by the connection count). */
  needsRegister: boolean;
  needsConfigure: boolean;
  pendingAction: PendingAction | null;
}

/** A fresh entry: nothing loaded from Redis yet. */
export function createEntry(record: ConnectionRecord): Entry {
  return {
    record,
    born: -1,
    generation: -1,
    free: [],
    active: [],
    acquiring: false,
    retryAt: 0,
    hold: null,
    needsRegister: false,
    needsConfigure: false,
    pendingAction: null,
  };
}

/**
 * Whether a state from Redis is newer than the one the view holds: a recreated connection
 * (later registeredAt) is newer, then a higher generation. `ordered`: the state comes in a reply
 * on the command connection, where replies arrive in execution order, so the same generation
 * (with newer counters) is newer too; announcements need a higher generation.
 */
export function isNewer(entry: Entry, remote: RemoteConnection, ordered: boolean): boolean {
  if (entry.born < 0) return true;
  if (remote.registeredAt !== entry.born) return remote.registeredAt > entry.born;
  return ordered
    ? remote.circuit.generation >= entry.generation
    : remote.circuit.generation > entry.generation;
}

/** Copies a Redis state into the record; `offset` = server time − registry clock. */
export function writeRemote(entry: Entry, remote: RemoteConnection, offset: number): void {
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
  );
  record.totalFailures = remote.totalFailures;
  record.totalSuccesses = remote.totalSuccesses;
  record.lastFailureTime = local(remote.lastFailureTime);
  record.lastFailureReason = remote.lastFailureReason;
  record.lastSuccessTime = local(remote.lastSuccessTime);
  record.lastActivityAt = Math.max(record.lastActivityAt, remote.lastActivityAt - offset);
  entry.born = remote.registeredAt;
  entry.generation = c.generation;
}

/** Options and metadata configured by another process. */
export function adoptOptions(entry: Entry, remote: RemoteConnection): void {
  entry.record.options = remote.options;
  entry.record.metadata = remote.metadata;
  entry.record.settings = null;
}

/** What the view knows, in server time, to recreate a connection Redis has lost. */
export function seedOf(entry: Entry, offset: number): ConnectionSeed {
  const r = entry.record;
  const c = r.circuit;
  const server = (t: number | null): number | null => (t === null ? null : t + offset);
  return {
    state: c.state,
    failureCount: c.failureCount,
    openedAt: server(c.openedAt),
    openUntil: server(c.openUntil),
    openings: c.openings,
    changedAt: c.changedAt + offset,
    totalFailures: r.totalFailures,
    totalSuccesses: r.totalSuccesses,
    lastFailureTime: server(r.lastFailureTime),
    lastFailureReason: r.lastFailureReason,
    lastSuccessTime: server(r.lastSuccessTime),
  };
}

/** Manual actions: their events fire even when the state does not change. */
export const MANUAL_ACTIONS: ReadonlySet<string> = new Set<ManualAction>([
  'open',
  'close',
  'reset',
  'force_closed',
  'force_open',
  'force_half_open',
]);

const ANNOUNCED_KINDS: ReadonlySet<string> = new Set<string>([
  'success',
  'failure',
  'expire',
  'configure',
  ...MANUAL_ACTIONS,
]);

/** A decoded announcement (scripts/common.ts `announce`). */
export interface Announcement {
  readonly source: string;
  readonly kind: ChangeKind;
  readonly identifier: string;
  readonly scope: string | null;
  readonly reason: string | null;
  readonly result: ScriptResult;
}

/** Decodes an announcement; `null` for anything that is not one of this version's. */
export function parseAnnouncement(payload: string): Announcement | null {
  try {
    const m = JSON.parse(payload) as Record<string, unknown>;
    if (typeof m.identifier !== 'string' || typeof m.source !== 'string') return null;
    if (!Array.isArray(m.reply)) return null;
    const reply = decodeReply(m.reply.map((v: unknown) => (v === false ? null : v)));
    if (!reply.found) return null;
    const kind = typeof m.kind === 'string' && ANNOUNCED_KINDS.has(m.kind) ? m.kind : 'sync';
    return {
      source: m.source,
      kind: kind as ChangeKind,
      identifier: m.identifier,
      scope: typeof m.scope === 'string' ? m.scope : null,
      reason: typeof m.reason === 'string' ? m.reason : null,
      result: reply,
    };
  } catch {
    return null;
  }
}
