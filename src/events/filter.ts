import { checkIdentifier, normalizeScope, readOptions } from '../core/arguments.js';
import { invalidOption } from '../core/errors.js';
import { EVENT_TYPES, type BramaEvent, type BramaEventType } from './types.js';

/** A validated, normalised subscription filter. */
export interface CompiledFilter {
  readonly types: ReadonlySet<BramaEventType> | null;
  readonly identifier: string | null;
  /** `undefined`: any scope; `null`: only connections without a scope. */
  readonly scope: string | null | undefined;
  readonly predicate: ((event: BramaEvent) => boolean) | null;
}

const FILTER_KEYS: ReadonlySet<string> = new Set(['events', 'identifier', 'scope', 'filter']);
const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Validates a subscription filter (throws `BRAMA_INVALID_*` on bad input). */
export function compileFilter(input: unknown): CompiledFilter {
  const o = readOptions(input, 'event filter', FILTER_KEYS);
  let types: Set<BramaEventType> | null = null;
  if (o.events !== undefined) {
    if (!Array.isArray(o.events))
      throw invalidOption('events', 'an array of event types', o.events);
    types = new Set();
    for (const type of o.events as unknown[]) {
      if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
        throw invalidOption('events', `event types among ${EVENT_TYPES.join(', ')}`, type);
      }
      types.add(type as BramaEventType);
    }
  }
  let identifier: string | null = null;
  if (o.identifier !== undefined) {
    checkIdentifier(o.identifier);
    identifier = o.identifier;
  }
  const scope = o.scope === undefined ? undefined : normalizeScope(o.scope);
  if (o.filter !== undefined && typeof o.filter !== 'function') {
    throw invalidOption('filter', 'a function (event) => boolean', o.filter);
  }
  const predicate = (o.filter as ((event: BramaEvent) => boolean) | undefined) ?? null;
  return Object.freeze({ types, identifier, scope, predicate });
}

/**
 * Whether `event` passes the structural part of `f` (types, identifier, scope). Identifier and
 * scope filters only pass events about a connection.
 */
export function matchesStructure(f: CompiledFilter, event: BramaEvent): boolean {
  if (f.types !== null && !f.types.has(event.type)) return false;
  if (f.identifier !== null && event.identifier !== f.identifier) return false;
  if (f.scope !== undefined && (event.identifier === null || event.scope !== f.scope)) return false;
  return true;
}
