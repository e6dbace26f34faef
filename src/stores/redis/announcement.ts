/**
 * Decoding of the changes scripts announce on `{prefix}:changes` (scripts/common.ts
 * `announce`, and counters: scripts/counters.ts): validated, bounded, naming the connection by
 * its escaped tag. Anything that is
 * not one of this version's announcements decodes to `null` and is ignored.
 */
import type { ChangeKind, ManualAction } from '../store.js';
import { parseTag } from './keys.js';
import { decodeCounters, decodeReply, type Counters, type ScriptResult } from './reply.js';

/** Manual actions: their events fire even when the state does not change. */
export const MANUAL_ACTIONS: ReadonlySet<string> = new Set<ManualAction>([
  'open',
  'close',
  'reset',
  'force_closed',
  'force_open',
  'force_half_open',
]);

/** Announced kinds and what they mean to a receiving process. */
const ANNOUNCED_KINDS: ReadonlyMap<string, ChangeKind> = new Map<string, ChangeKind>([
  ['success', 'success'],
  ['failure', 'failure'],
  ['expire', 'expire'],
  ['configure', 'configure'],
  ['refresh', 'sync'],
  ['sync', 'sync'],
  ...[...MANUAL_ACTIONS].map((action): [string, ChangeKind] => [action, action as ManualAction]),
]);

/** A decoded announcement of a connection's state (scripts/common.ts `announce`). */
export interface StateAnnouncement {
  readonly source: string;
  readonly kind: ChangeKind;
  readonly identifier: string;
  readonly scope: string | null;
  readonly reason: string | null;
  readonly result: ScriptResult;
}

/** A decoded announcement of a connection's counters (scripts/counters.ts). */
export interface CountersAnnouncement {
  readonly source: string;
  readonly kind: 'counters';
  readonly identifier: string;
  readonly scope: string | null;
  readonly counters: Counters;
}

/** A decoded announcement. */
export type Announcement = StateAnnouncement | CountersAnnouncement;

/** Bounds of an announcement's parts: anything larger is not one of ours. */
const MAX_PAYLOAD = 4 * 1024 * 1024;
const MAX_SOURCE = 128;

/**
 * Decodes an announcement; `null` for anything that is not one of this version's: malformed
 * JSON, missing or mistyped fields, a tag that names no connection exactly, values out of range.
 */
export function parseAnnouncement(payload: string): Announcement | null {
  if (payload.length > MAX_PAYLOAD) return null;
  try {
    const m = JSON.parse(payload) as Record<string, unknown>;
    if (typeof m !== 'object' || m === null) return null;
    const { source, tag, kind, reason } = m;
    if (typeof source !== 'string' || source.length > MAX_SOURCE) return null;
    if (typeof tag !== 'string' || typeof kind !== 'string') return null;
    const named = parseTag(tag);
    if (named === null) return null;
    if (kind === 'counters') {
      if (!Array.isArray(m.counters)) return null;
      const counters = decodeCounters(m.counters.map((v: unknown) => (v === false ? null : v)));
      return { source, kind, identifier: named.identifier, scope: named.scope, counters };
    }
    const meaning = ANNOUNCED_KINDS.get(kind);
    if (meaning === undefined || !Array.isArray(m.reply)) return null;
    const reply = decodeReply(m.reply.map((v: unknown) => (v === false ? null : v)));
    if (!reply.found) return null;
    return {
      source,
      kind: meaning,
      identifier: named.identifier,
      scope: named.scope,
      reason: typeof reason === 'string' ? reason : null,
      result: reply,
    };
  } catch {
    return null;
  }
}
