import { BramaError, describe, invalidArgument } from './errors.js';

/** Throws `BRAMA_INVALID_ARGUMENT` unless `identifier` is a non-empty string. */
export function checkIdentifier(identifier: unknown): asserts identifier is string {
  if (typeof identifier !== 'string' || identifier.length === 0) {
    throw invalidArgument('identifier', 'a non-empty string', identifier);
  }
}

/** Normalises a scope: a non-empty string, or `null` for none (`undefined` and `null` alike). */
export function normalizeScope(scope: unknown): string | null {
  if (scope === undefined || scope === null) return null;
  if (typeof scope !== 'string' || scope.length === 0) {
    throw invalidArgument('scope', 'a non-empty string, null or undefined', scope);
  }
  return scope;
}

/** Names a connection for messages: `"id"`, or `"id" in scope "scope"`. */
export function connectionName(identifier: string, scope: string | null): string {
  return scope === null
    ? JSON.stringify(identifier)
    : `${JSON.stringify(identifier)} in scope ${JSON.stringify(scope)}`;
}

/**
 * Checks that `value` is an options object (or absent) holding only `allowed` keys and returns a
 * copy of it (an empty object when absent). Wrong type, or an object that throws while being
 * read (a getter, a Proxy trap): `BRAMA_INVALID_ARGUMENT`; unknown key (a typo):
 * `BRAMA_INVALID_OPTION`, suggesting the closest allowed key. Callers read only the copy, so an
 * options object cannot throw later, or answer differently the second time it is read.
 */
export function readOptions(
  value: unknown,
  what: string,
  allowed: ReadonlySet<string>,
): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'object' || isArray(value)) {
    throw invalidArgument(what, 'an object or undefined', value);
  }
  const copy: Record<string, unknown> = {};
  let unknown: string | null = null;
  try {
    for (const key in value) {
      if (!allowed.has(key)) {
        unknown = key;
        break;
      }
      copy[key] = (value as Record<string, unknown>)[key];
    }
  } catch (error) {
    throw unreadable(what, error);
  }
  if (unknown !== null) throw unknownOption(unknown, what, allowed);
  return copy;
}

/** An options object whose getter or Proxy trap threw while brama read it. */
export function unreadable(what: string, error: unknown): BramaError {
  return new BramaError(
    'BRAMA_INVALID_ARGUMENT',
    `Invalid ${what}: reading it threw ${safeText(error)}`,
    { cause: error },
  );
}

/** `String(value)` that never throws (a throwing `toString`, a revoked Proxy). */
export function safeText(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return describe(value);
  }
}

/** `Array.isArray`, except that a revoked Proxy (which makes it throw) counts as an array. */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return true;
  }
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

function unknownOption(key: string, what: string, allowed: ReadonlySet<string>): BramaError {
  const closest = closestKey(key, allowed);
  const hint = closest === null ? '' : `; did you mean "${closest}"?`;
  return new BramaError(
    'BRAMA_INVALID_OPTION',
    `Unknown option ${describe(key)} in ${what} (allowed: ${[...allowed].join(', ')})${hint}`,
  );
}

/** The allowed key within edit distance 3 of `key`, or `null`. */
function closestKey(key: string, allowed: ReadonlySet<string>): string | null {
  let best: string | null = null;
  let bestDistance = 4;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(value);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
