/**
 * Options of `createRedisStore` (`brama/redis`), validated once, with typed errors that name
 * the bad value.
 */
import type { Cluster, Redis } from 'ioredis';
import { BramaError, invalidOption } from '../../core/errors.js';
import { readOptions } from '../../core/arguments.js';
import { checkPrefix } from './keys.js';

/**
 * What a process does while Redis is unreachable or slower than `commandTimeout`:
 * - `'local'` (default): keep working on local state. Outcomes and actions apply to this
 *   process's view (circuits trip per process, as with the memory store); on recovery the
 *   process reconciles with Redis, which wins where it still holds the connection.
 * - `'allow'`: admit every call (fail open) while still recording outcomes locally.
 * - `'refuse'`: refuse every call (fail closed) until Redis is back.
 */
export type DegradedPolicy = 'local' | 'allow' | 'refuse';

/** Options of `createRedisStore`. Give `client` or `url`. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) for commands. The store duplicates it for its
   * pub/sub subscription and closes only that duplicate; the client stays yours. When it leaves
   * a command unanswered for `commandTimeout`, the store makes it reconnect
   * (`disconnect(true)`): a connection that swallows bytes without closing never answers again.
   * Keep ioredis' default `autoResendUnfulfilledCommands: true`: the store makes resent commands
   * count once.
   */
  client?: Redis | Cluster | undefined;
  /** A Redis URL; the store creates its two clients and closes them in `close()`. */
  url?: string | undefined;
  /**
   * Namespace of every key and of the changes channel: a non-empty string without `{` or `}`.
   * Processes that should share circuits use the same prefix.
   * @default 'brama'
   */
  prefix?: string | undefined;
  /**
   * Keys expire this many ms after the connection's last activity anywhere in the fleet
   * (0: never). @default 86_400_000 (one day)
   */
  keyTtl?: number | undefined;
  /**
   * A command unanswered for this many ms puts the store in degraded mode (the command still
   * completes if Redis answers later). @default 1000
   */
  commandTimeout?: number | undefined;
  /** @default 'local' */
  degradedPolicy?: DegradedPolicy | undefined;
  /** While degraded, how often (ms) to check whether Redis is back. @default 1000 */
  recoveryInterval?: number | undefined;
}

/** Parsed options. */
export interface RedisStoreSettings {
  readonly client: Redis | Cluster | undefined;
  readonly url: string | undefined;
  readonly prefix: string;
  readonly keyTtl: number;
  readonly commandTimeout: number;
  readonly degradedPolicy: DegradedPolicy;
  readonly recoveryInterval: number;
}

const KEYS: ReadonlySet<string> = new Set([
  'client',
  'url',
  'prefix',
  'keyTtl',
  'commandTimeout',
  'degradedPolicy',
  'recoveryInterval',
]);

const POLICIES: readonly DegradedPolicy[] = ['local', 'allow', 'refuse'];

function isClient(value: unknown): value is Redis | Cluster {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.defineCommand === 'function' &&
    typeof c.duplicate === 'function' &&
    typeof c.on === 'function'
  );
}

/** The longest delay a Node.js timer honours (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

function duration(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidOption(name, `an integer ${range} (ms)`, value);
  }
  return value;
}

/**
 * A URL with its password (and a user name given with one) replaced by `***`, for messages and
 * warnings: connection strings often carry credentials.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not parseable: hide anything between "//" and "@" that could be a secret.
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}

/**
 * Checks a Redis URL: `redis://` or `rediss://`, a host, an optional port and database number.
 * Throws `BRAMA_INVALID_OPTION` naming the (redacted) URL: ioredis would otherwise take a URL
 * without a scheme for a Unix socket path and fail later, looking like an outage.
 */
export function checkUrl(url: unknown): void {
  const expected = 'a Redis URL such as "redis://host:6379/0" (scheme redis: or rediss:)';
  if (typeof url !== 'string' || url === '') throw invalidOption('url', expected, url);
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  const problem =
    parsed === null
      ? 'it does not parse as a URL'
      : parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:'
        ? `its scheme is "${parsed.protocol}"`
        : parsed.hostname === ''
          ? 'it has no host'
          : !/^(\/\d*)?$/.test(parsed.pathname)
            ? `its path "${parsed.pathname}" is not a database number`
            : null;
  if (problem !== null) {
    throw new BramaError(
      'BRAMA_INVALID_OPTION',
      `Invalid option "url": expected ${expected}, received ${JSON.stringify(redactUrl(url))} (${problem})`,
    );
  }
}

/** Validates the options of `createRedisStore`; throws `BRAMA_INVALID_OPTION`. */
export function parseRedisStoreOptions(options: unknown): RedisStoreSettings {
  if (options === undefined || options === null) {
    throw new BramaError(
      'BRAMA_INVALID_OPTION',
      `Invalid option "client": expected an ioredis client or a "url", received ${String(options)}`,
    );
  }
  const o = readOptions(options, 'createRedisStore options', KEYS);
  const client = o.client;
  const url = o.url;
  if (client !== undefined && !isClient(client)) {
    throw invalidOption('client', 'an ioredis Redis or Cluster client', client);
  }
  if (url !== undefined) checkUrl(url);
  if ((client === undefined) === (url === undefined)) {
    throw invalidOption('client', 'exactly one of "client" and "url"', client);
  }
  const policy = o.degradedPolicy ?? 'local';
  if (!POLICIES.includes(policy as DegradedPolicy)) {
    throw invalidOption('degradedPolicy', `one of ${POLICIES.join(', ')}`, policy);
  }
  return Object.freeze({
    client: client,
    url: url as string | undefined,
    prefix: o.prefix === undefined ? 'brama' : checkPrefix(o.prefix),
    keyTtl: duration('keyTtl', o.keyTtl, 86_400_000, 0),
    commandTimeout: duration('commandTimeout', o.commandTimeout, 1000, 1, MAX_TIMER_MS),
    degradedPolicy: policy as DegradedPolicy,
    recoveryInterval: duration('recoveryInterval', o.recoveryInterval, 1000, 1, MAX_TIMER_MS),
  });
}
