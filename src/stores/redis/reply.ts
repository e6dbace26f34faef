/**
 * Decoding of the scripts' replies (the fixed-order array documented in `scripts/common.ts`)
 * into typed values. A reply of any other shape is a `BRAMA_STORE_UNAVAILABLE` error: it means
 * the keys were written by something that is not this version of brama.
 */
import { BramaError } from '../../core/errors.js';
import type { Metadata } from '../../core/record.js';
import type { TripRule } from '../../core/rate-policy.js';
import type { WindowCounts } from '../../core/window.js';
import { pickCircuitOptions, type CircuitOptions } from '../../core/settings.js';
import {
  circuit as makeCircuit,
  CIRCUIT_STATES,
  NO_TRIALS,
  type Circuit,
  type CircuitState,
} from '../../core/state.js';

/** A connection as Redis holds it: the circuit plus the counters of a `ConnectionRecord`. */
export interface RemoteConnection {
  /** The circuit; `trials` is always empty (leases live in Redis, see `liveTrials`). */
  readonly circuit: Circuit;
  /** Bumped by every change of the connection in Redis: orders the states a process sees. */
  readonly version: number;
  /** Unexpired half-open trial leases, fleet-wide. */
  readonly liveTrials: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  readonly lastFailureTime: number | null;
  readonly lastFailureReason: string | null;
  readonly lastSuccessTime: number | null;
  readonly registeredAt: number;
  readonly lastActivityAt: number;
  /** The connection's own options, as given at its creation. */
  readonly options: CircuitOptions;
  readonly metadata: Metadata;
  /** The `'rate'` policy's window counts (`null`: no window). */
  readonly window: WindowCounts | null;
  /** Why the last outcome-driven opening happened, `null` when none was recorded. */
  readonly trip: TripRule | null;
}

/** What a script did, and the connection afterwards. */
export interface ScriptResult {
  /** Redis server time of the operation (epoch ms). */
  readonly now: number;
  /** Whether this call recorded the lazy open → half-open transition (dated at `openUntil`). */
  readonly expired: boolean;
  /** The state the operation applied to (after that lazy transition). */
  readonly from: CircuitState;
  /** Whether the operation itself changed the state (exactly one reporter sees a trip). */
  readonly transitioned: boolean;
  /** `register`: created the connection; `acquireTrial`: admitted the call. */
  readonly flag: boolean;
  /** `acquireTrial` when refused: ms until a call could be admitted. */
  readonly retryAfter: number;
  /** Whether the script published this state on the changes channel. */
  readonly announced: boolean;
  /** Whether the command was a resend of one already applied (it changed nothing). */
  readonly duplicate: boolean;
  readonly connection: RemoteConnection;
}

/** A decoded reply: `found: false` when the connection does not exist in Redis. */
export type ScriptReply =
  { readonly found: false; readonly now: number } | ({ readonly found: true } & ScriptResult);

/**
 * The lean reply of a report that changed no state (scripts/report.ts): only what the reporting
 * process cannot know, and whether the change was announced.
 */
export interface LeanReply {
  readonly found: 'lean';
  readonly now: number;
  readonly duplicate: boolean;
  readonly registeredAt: number;
  readonly version: number;
  readonly state: CircuitState;
  readonly failureCount: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  /** Whether this report published the connection's counters. */
  readonly announced: boolean;
  /**
   * Whether this report is the first change left unannounced since the last announcement: its
   * process refreshes the connection at {@link due}.
   */
  readonly trailing: boolean;
  /** When an announcement of this state is due (server time, ms). */
  readonly due: number;
}

/** What `report` answers: the lean reply, or the common one. */
export type ReportReply = ScriptReply | LeanReply;

/**
 * A connection's counters and what they belong to (scripts/counters.ts): refresh's lean reply
 * and the content of a counters announcement.
 */
export interface Counters {
  readonly found: 'counters';
  readonly now: number;
  readonly registeredAt: number;
  readonly version: number;
  readonly state: CircuitState;
  readonly generation: number;
  readonly failureCount: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  readonly lastFailureTime: number | null;
  readonly lastFailureReason: string | null;
  readonly lastSuccessTime: number | null;
  readonly lastActivityAt: number;
  /** Whether the call published them. */
  readonly announced: boolean;
}

/** What `refresh` answers: the counters, or the common reply after a settle. */
export type RefreshReply = ScriptReply | Counters;

const HEADER = 9;
/** The connection's fields (scripts/common.ts FIELDS) and the live lease count. */
const FIELD_COUNT = 24;

function malformed(detail: string): BramaError {
  return new BramaError(
    'BRAMA_STORE_UNAVAILABLE',
    `Unexpected reply from a brama script: ${detail}`,
  );
}

function row(reply: unknown): readonly (string | null)[] {
  if (!Array.isArray(reply)) throw malformed('not an array');
  return (reply as unknown[]).map((value: unknown) => {
    if (value === null || typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    throw malformed(`element of type ${typeof value}`);
  });
}

function text(r: readonly (string | null)[], i: number): string | null {
  const value = r[i];
  if (value === undefined) throw malformed(`missing element ${i + 1}`);
  return value;
}

function numberOrNull(r: readonly (string | null)[], i: number): number | null {
  const value = text(r, i);
  if (value === null) return null;
  const n = Number(value);
  if (value === '' || !Number.isFinite(n)) throw malformed(`element ${i + 1} is not a number`);
  return n;
}

/** A count or version: an integer from 0 to 2^53 - 1. */
function count(r: readonly (string | null)[], i: number): number {
  const n = number(r, i);
  if (!Number.isSafeInteger(n) || n < 0) throw malformed(`element ${i + 1} is not a count`);
  return n;
}

function number(r: readonly (string | null)[], i: number): number {
  const n = numberOrNull(r, i);
  if (n === null) throw malformed(`element ${i + 1} is nil`);
  return n;
}

function state(r: readonly (string | null)[], i: number): CircuitState {
  const value = text(r, i);
  const known = CIRCUIT_STATES.find((s) => s === value);
  if (known === undefined) throw malformed(`element ${i + 1} is not a state`);
  return known;
}

function object(r: readonly (string | null)[], i: number): Readonly<Record<string, unknown>> {
  const value = text(r, i);
  let parsed: unknown = null;
  try {
    parsed = value === null ? null : JSON.parse(value);
  } catch {
    // reported below
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw malformed(`element ${i + 1} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Decoded options and metadata by their JSON text: every reply carries both, and most
 * connections share a few texts (`{}` above all). Values are frozen, so sharing them is safe;
 * the cache is dropped when it reaches {@link DECODED_LIMIT} entries.
 */
const decodedOptions = new Map<string, CircuitOptions>();
const decodedMetadata = new Map<string, Metadata>();
const DECODED_LIMIT = 1024;

function memo<T>(cache: Map<string, T>, key: string | null, decode: () => T): T {
  if (key === null) return decode();
  let value = cache.get(key);
  if (value === undefined) {
    value = decode();
    if (cache.size >= DECODED_LIMIT) cache.clear();
    cache.set(key, value);
  }
  return value;
}

/** Decodes the connection fields that start at index `at` of a reply row. */
function connection(r: readonly (string | null)[], at: number): RemoteConnection {
  const circuit: Circuit = makeCircuit(
    state(r, at),
    count(r, at + 1),
    numberOrNull(r, at + 2),
    numberOrNull(r, at + 3),
    count(r, at + 4),
    NO_TRIALS,
    number(r, at + 5),
    count(r, at + 6),
    r[at + 17] === null ? 0 : count(r, at + 17),
    numberOrNull(r, at + 18),
  );
  const calls = r[at + 19] === null ? null : count(r, at + 19);
  return {
    circuit,
    version: count(r, at + 7),
    totalFailures: count(r, at + 8),
    totalSuccesses: count(r, at + 9),
    lastFailureTime: numberOrNull(r, at + 10),
    lastFailureReason: text(r, at + 11),
    lastSuccessTime: numberOrNull(r, at + 12),
    registeredAt: number(r, at + 13),
    lastActivityAt: number(r, at + 14),
    options: memo(decodedOptions, r[at + 15] ?? null, () =>
      Object.freeze(pickCircuitOptions(object(r, at + 15))),
    ),
    metadata: memo(decodedMetadata, r[at + 16] ?? null, () =>
      Object.freeze({ ...object(r, at + 16) }),
    ),
    window:
      calls === null
        ? null
        : { calls, failures: optionalCount(r, at + 20), slow: optionalCount(r, at + 21) },
    trip: tripRule(text(r, at + 22)),
    liveTrials: count(r, at + 23),
  };
}

function optionalCount(r: readonly (string | null)[], i: number): number {
  return r[i] === null ? 0 : count(r, i);
}

const TRIP_RULES: ReadonlySet<string> = new Set([
  'consecutive_failures',
  'failure_rate',
  'slow_call_rate',
  'retry_after',
  'failed_trial',
]);

/** The trip rule a script recorded (JSON); `null` for none or anything unexpected. */
function tripRule(value: string | null): TripRule | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as { rule?: unknown };
    return typeof parsed === 'object' &&
      parsed !== null &&
      typeof parsed.rule === 'string' &&
      TRIP_RULES.has(parsed.rule)
      ? (Object.freeze(parsed) as TripRule)
      : null;
  } catch {
    return null;
  }
}

/** Decodes the common reply of register, report, acquire_trial, act and read. */
export function decodeReply(reply: unknown): ScriptReply {
  const r = row(reply);
  const now = number(r, 0);
  if (text(r, 1) === '0') return { found: false, now };
  if (r.length !== HEADER + FIELD_COUNT) throw malformed(`${r.length} elements`);
  return {
    found: true,
    now,
    expired: text(r, 2) === '1',
    from: state(r, 3),
    transitioned: text(r, 4) === '1',
    flag: text(r, 5) === '1',
    retryAfter: number(r, 6),
    announced: text(r, 7) === '1',
    duplicate: text(r, 8) === '1',
    connection: connection(r, HEADER),
  };
}

/** Decodes the reply of report: lean or common. */
export function decodeReportReply(reply: unknown): ReportReply {
  const r = row(reply);
  if (text(r, 1) !== '2') return decodeReply(reply);
  if (r.length !== 12) throw malformed(`${r.length} elements in a lean reply`);
  return {
    found: 'lean',
    now: number(r, 0),
    duplicate: text(r, 2) === '1',
    registeredAt: number(r, 3),
    version: count(r, 4),
    state: state(r, 5),
    failureCount: count(r, 6),
    totalFailures: count(r, 7),
    totalSuccesses: count(r, 8),
    announced: text(r, 9) === '1',
    trailing: text(r, 10) === '1',
    due: number(r, 11),
  };
}

/** Decodes counters (scripts/counters.ts), already split into a row. */
function counters(r: readonly (string | null)[]): Counters {
  if (r.length !== 14 || text(r, 1) !== '3') throw malformed(`not counters`);
  return {
    found: 'counters',
    now: number(r, 0),
    registeredAt: number(r, 2),
    version: count(r, 3),
    state: state(r, 4),
    generation: count(r, 5),
    failureCount: count(r, 6),
    totalFailures: count(r, 7),
    totalSuccesses: count(r, 8),
    lastFailureTime: numberOrNull(r, 9),
    lastFailureReason: text(r, 10),
    lastSuccessTime: numberOrNull(r, 11),
    lastActivityAt: number(r, 12),
    announced: text(r, 13) === '1',
  };
}

/** Decodes the counters of an announcement (nils as `null`). */
export function decodeCounters(value: unknown): Counters {
  return counters(row(value));
}

/** Decodes the reply of refresh: counters, or the common reply. */
export function decodeRefreshReply(reply: unknown): RefreshReply {
  const r = row(reply);
  return text(r, 1) === '3' ? counters(r) : decodeReply(reply);
}

/** Decodes the reply of delete and touch_trial: whether the key (or lease) was there. */
export function decodeFound(reply: unknown): { readonly now: number; readonly found: boolean } {
  const r = row(reply);
  return { now: number(r, 0), found: text(r, 1) === '1' };
}
