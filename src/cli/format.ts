/**
 * How the CLI prints connections: a table for `status`, one line per change for `watch`. Text
 * that came from Redis (identifiers, scopes, reasons) is made printable first: control
 * characters and lone surrogates are shown as `\uXXXX` escapes, so one connection stays one row.
 */
import type { StoredConnectionStatus } from './snapshot.js';

/** Longest last-failure reason shown in a table cell. */
const REASON_WIDTH = 60;

/** `text` with control characters and lone surrogates escaped (`\uXXXX`). */
export function printable(text: string): string {
  return text.replace(
    /\p{Cc}|\p{Cs}/gu,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function shorten(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** A duration for people: `850ms`, `12s`, `3m 04s`, `2h 05m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

/** The scope as shown: `-` for none. */
function scopeText(scope: string | null): string {
  return scope === null ? '-' : printable(scope);
}

const HEADERS = [
  'IDENTIFIER',
  'SCOPE',
  'STATE',
  'FAILURES',
  'SUCCESSES',
  'IN STATE',
  'LAST FAILURE',
] as const;

function row(s: StoredConnectionStatus): string[] {
  const reason = s.lastFailureReason === null ? '-' : printable(s.lastFailureReason);
  return [
    printable(s.identifier),
    scopeText(s.scope),
    s.state,
    `${s.failureCount}/${s.totalFailures}`,
    String(s.totalSuccesses),
    formatDuration(s.timeSinceLastStateChange),
    shorten(reason, REASON_WIDTH),
  ];
}

/** Display width of a cell: code points (wide characters count as one; good enough). */
const width = (text: string): number => [...text].length;

/**
 * The `status` table: identifier, scope, state, failures (consecutive/total), successes, time
 * in state, last failure reason. Ends with a newline.
 */
export function formatTable(statuses: readonly StoredConnectionStatus[]): string {
  const rows = [HEADERS.slice(), ...statuses.map(row)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => width(r[i]!))));
  const line = (r: string[]): string =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
      .join('  ')
      .trimEnd();
  return `${rows.map(line).join('\n')}\n`;
}

/** What `watch` prints for one announced change (without the trailing newline). */
export interface ChangeLine {
  /** When it was printed (epoch ms). */
  readonly at: number;
  /** The announced operation: `open`, `failure`, `expire`, `counters`, ... */
  readonly kind: string;
  readonly identifier: string;
  readonly scope: string | null;
  /** The state before, as the announcement says (`null`: not said). */
  readonly from: string | null;
  /** The state Redis holds after reading the connection back (`gone`: deleted meanwhile). */
  readonly state: string;
  readonly reason: string | null;
  readonly failureCount: number | null;
  readonly totalFailures: number | null;
  readonly totalSuccesses: number | null;
}

/** One `watch` line: time, connection, kind, state change, counts, reason. */
export function formatChange(c: ChangeLine): string {
  const name =
    c.scope === null
      ? printable(c.identifier)
      : `${printable(c.identifier)} (${scopeText(c.scope)})`;
  const states = c.from !== null && c.from !== c.state ? `${c.from} -> ${c.state}` : c.state;
  const parts = [new Date(c.at).toISOString(), name, c.kind, states];
  if (c.failureCount !== null) {
    parts.push(
      `failures ${c.failureCount}/${c.totalFailures ?? 0} successes ${c.totalSuccesses ?? 0}`,
    );
  }
  if (c.reason !== null) parts.push(`reason ${JSON.stringify(shorten(c.reason, REASON_WIDTH))}`);
  return parts.join('  ');
}
