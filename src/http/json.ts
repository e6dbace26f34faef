/**
 * JSON for the wire: events and statuses carry user data (metadata of any shape, reasons that
 * are `Error` objects), which `JSON.stringify` alone would throw on (cycles, BigInt, throwing
 * getters and `toJSON`) or render as `{}` (errors). This serializer never throws.
 */

/** How deep nested objects are followed before they are cut off. */
const MAX_DEPTH = 12;
/** How many items or keys of one array or object are written. */
const MAX_ITEMS = 1_000;

/** `JSON.stringify(value)` made safe: never throws, whatever `value` holds. */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(plain(value, 0, new Set())) ?? 'null';
  } catch {
    // Unreachable by construction (plain() returns JSON-ready data); the wire still gets JSON.
    return 'null';
  }
}

/**
 * A JSON-ready copy of `value`: an `Error` becomes its message, a BigInt its decimal string, a
 * Date its ISO string, a Map or Set an object or array, a cycle `"[Circular]"`; functions and
 * symbols are left out; anything that throws while read becomes `"[Unreadable]"`.
 */
export function plain(value: unknown, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(object);
  try {
    return container(object, depth, seen);
  } catch {
    return '[Unreadable]';
  } finally {
    seen.delete(object);
  }
}

function container(object: object, depth: number, seen: Set<object>): unknown {
  if (object instanceof Error) return errorText(object);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (Array.isArray(object)) return items(object, depth, seen);
  if (object instanceof Set) return items([...object], depth, seen);
  if (object instanceof Map) return entries([...object], depth, seen);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return plain(Reflect.apply(toJSON, object, []), depth + 1, seen);
  }
  return entries(Object.entries(object), depth, seen);
}

function items(list: unknown[], depth: number, seen: Set<object>): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < list.length && i < MAX_ITEMS; i++) {
    out.push(plain(list[i], depth + 1, seen) ?? null);
  }
  return out;
}

function entries(pairs: [unknown, unknown][], depth: number, seen: Set<object>): object {
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const [key, item] of pairs) {
    if (count++ >= MAX_ITEMS) break;
    const copy = plain(item, depth + 1, seen);
    // defineProperty: a key named "__proto__" stays data instead of replacing the prototype.
    if (copy !== undefined) {
      Object.defineProperty(out, keyText(key), {
        value: copy,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') {
    return String(key);
  }
  return key === null || key === undefined ? String(key) : `[${typeof key}]`;
}

/** An error's message (its name when the message is empty), never throwing. */
export function errorText(error: Error): string {
  try {
    const message = error.message;
    if (typeof message === 'string' && message !== '') return message;
    return typeof error.name === 'string' ? error.name : 'Error';
  } catch {
    return 'Error';
  }
}
