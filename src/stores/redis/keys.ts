/**
 * The one place where brama's Redis key strings are built. Every key of one connection carries
 * the same hash tag, so each script touches a single Redis Cluster slot.
 */
import { invalidOption } from '../../core/errors.js';

/** The keys of one connection. */
export interface ConnectionKeys {
  /** Hash: the circuit, its counters, own options and metadata. */
  readonly state: string;
  /** Sorted set: half-open trial lease tokens scored by their expiry time (epoch ms). */
  readonly trials: string;
  /** String: the outcomes of the `'rate'` policy's count window, one digit each. */
  readonly window: string;
  /** The connection's hash tag, `{scope|identifier}` escaped: how announcements name it. */
  readonly tag: string;
}

/**
 * Escapes the characters that would make a tag ambiguous: `%` (the escape itself), `|` (the
 * separator), `{` and `}` (hash tag delimiters) as `%XX`, and lone UTF-16 surrogates as `%uXXXX`
 * (Redis keys are UTF-8, where every lone surrogate would become the same U+FFFD). Unlike
 * `encodeURIComponent`, it never throws and keeps other characters readable.
 */
function escapePart(part: string): string {
  return part.replace(/[%|{}]|\p{Cs}/gu, (ch) => {
    const code = ch.charCodeAt(0);
    return code > 0xff ? `%u${code.toString(16).padStart(4, '0')}` : `%${code.toString(16)}`;
  });
}

/**
 * The hash tag of a connection: `{scope|identifier}`, both escaped. Injective: a scope is never
 * the empty string (so `''` means "no scope"), and escaping removes every `|`, `{` and `}`, so
 * the separator and the braces can only come from here.
 */
export function connectionTag(identifier: string, scope: string | null): string {
  return `{${escapePart(scope ?? '')}|${escapePart(identifier)}}`;
}

/** Both keys of a connection under `prefix` (validate the prefix first: {@link checkPrefix}). */
export function connectionKeys(
  prefix: string,
  identifier: string,
  scope: string | null,
): ConnectionKeys {
  const tag = connectionTag(identifier, scope);
  const base = `${prefix}:${tag}`;
  return { state: `${base}:state`, trials: `${base}:trials`, window: `${base}:window`, tag };
}

/**
 * The identifier and scope a tag names (the inverse of {@link connectionTag}), or `null` when
 * `tag` is not one {@link connectionTag} could have built.
 */
export function parseTag(tag: string): { identifier: string; scope: string | null } | null {
  const match = /^\{([^{}|]*)\|([^{}|]+)\}$/.exec(tag);
  if (match === null) return null;
  const scope = unescapePart(match[1]!);
  const identifier = unescapePart(match[2]!);
  if (scope === null || identifier === null || identifier === '') return null;
  const parsed = { identifier, scope: scope === '' ? null : scope };
  // Only the canonical spelling names a connection (e.g. not "%41" for "A").
  return connectionTag(parsed.identifier, parsed.scope) === tag ? parsed : null;
}

/** Which key of a connection a key string is (see {@link ConnectionKeys}). */
export type KeyPart = 'state' | 'trials' | 'window';

/** A key read back: the connection it belongs to and which of its keys it is. */
export interface ParsedKey {
  readonly identifier: string;
  readonly scope: string | null;
  readonly part: KeyPart;
}

const KEY_PARTS: ReadonlySet<string> = new Set<KeyPart>(['state', 'trials', 'window']);

/**
 * The connection a key under `prefix` belongs to (the inverse of {@link connectionKeys}), or
 * `null` for a key {@link connectionKeys} could not have built for this prefix: another
 * prefix's keys that a SCAN of {@link keyPattern} also matches (`prefix:sub:{...}`), a tag that
 * is not canonical, an unknown part.
 */
export function parseKey(prefix: string, key: string): ParsedKey | null {
  const head = `${prefix}:{`;
  if (!key.startsWith(head)) return null;
  // Escaping leaves no brace inside a tag and a prefix holds none: the first "}" closes it.
  const end = key.indexOf('}', head.length);
  if (end < 0 || key[end + 1] !== ':') return null;
  const part = key.slice(end + 2);
  if (!KEY_PARTS.has(part)) return null;
  const named = parseTag(key.slice(head.length - 1, end + 1));
  return named === null ? null : { ...named, part: part as KeyPart };
}

function unescapePart(part: string): string | null {
  let bad = false;
  const text = part.replace(/%(u[0-9a-f]{4}|[0-9a-f]{2})|%/g, (escape, code?: string) => {
    if (code === undefined) {
      bad = true;
      return '';
    }
    return String.fromCharCode(parseInt(code.startsWith('u') ? code.slice(1) : code, 16));
  });
  return bad ? null : text;
}

/** The pub/sub channel on which changes under `prefix` are announced. */
export function changesChannel(prefix: string): string {
  return `${prefix}:changes`;
}

/**
 * The channel on which one process sends heartbeats to itself, to notice a subscription that
 * died without its connection closing.
 */
export function heartbeatChannel(prefix: string, source: string): string {
  return `${prefix}:heartbeat:${source}`;
}

/** The pattern matching every key under `prefix` (for SCAN in cleanup and tests). */
export function keyPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}

/**
 * Checks a key prefix: a non-empty string without `{` or `}` (a brace would change which part of
 * the key Redis Cluster hashes). Throws `BRAMA_INVALID_OPTION`.
 */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    throw invalidOption('prefix', 'a non-empty string without "{" or "}"', prefix);
  }
  return prefix;
}
