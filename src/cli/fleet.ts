/**
 * What the CLI does in Redis, through the store's own scripts and decoders: discovers every
 * connection stored under a prefix (SCAN, never KEYS, decoding each key), reads each one
 * (`read`: settled, not activity) and applies manual actions (`act`: atomic, versioned and
 * announced exactly like a process's own `openCircuit`/`closeCircuit`/`resetCircuit`).
 */
import { randomUUID } from 'node:crypto';
import { BramaError } from '../core/errors.js';
import { NO_OPTIONS, resolveSettings } from '../core/settings.js';
import type { Cluster } from 'ioredis';
import { RedisScripts, type ConnectionRef, type RedisClient } from '../stores/redis/commands.js';
import { connectionKeys, keyPattern, parseKey } from '../stores/redis/keys.js';
import type { ScriptResult } from '../stores/redis/reply.js';
import type { CliAction } from './args.js';
import { ANSWER_MS, redisName } from './connect.js';
import { storedStatus, type StoredConnectionStatus } from './snapshot.js';

/**
 * The `keyTtl` the CLI writes with: createRedisStore's default. A fleet's own `keyTtl` is not
 * stored in Redis; keys without an expiry (a fleet with `keyTtl: 0`) are written with none.
 */
const DEFAULT_KEY_TTL = 86_400_000;

/** How many connections are read in one go (one pipeline with auto-pipelining). */
const READ_BATCH = 256;

/** The connections stored under one prefix of one Redis. */
export class Fleet {
  /** Names the CLI in announcements and sequence numbers (like a process's store). */
  private readonly source = `cli-${randomUUID()}`;
  private seq = 0;
  private readonly scripts = new Map<number, RedisScripts>();

  constructor(
    private readonly client: RedisClient,
    private readonly url: string,
    readonly prefix: string,
  ) {}

  /** Every connection with a state hash under the prefix (of `scope` only, when given). */
  async scan(scope: string | null = null): Promise<ConnectionRef[]> {
    const found = new Map<string, ConnectionRef>();
    // In a cluster, every master holds its own share of the keys.
    const client = this.client;
    const nodes = isCluster(client) ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.command(() =>
          node.scan(cursor, 'MATCH', keyPattern(this.prefix), 'COUNT', 1000),
        );
        cursor = next;
        for (const key of keys) {
          const parsed = parseKey(this.prefix, key);
          if (parsed === null || parsed.part !== 'state') continue;
          if (scope !== null && parsed.scope !== scope) continue;
          found.set(key, { identifier: parsed.identifier, scope: parsed.scope });
        }
      } while (cursor !== '0');
    }
    return [...found.values()].sort(compareRefs);
  }

  /** The connection's settled state, or `null` when Redis does not hold it. */
  async read(ref: ConnectionRef): Promise<StoredConnectionStatus | null> {
    const scripts = await this.scriptsFor(ref);
    const reply = await this.command(() => scripts.read(ref));
    return reply.found
      ? storedStatus(ref.identifier, ref.scope, reply.connection, reply.now)
      : null;
  }

  /** Every connection under the prefix (of `scope` only, when given), read back. */
  async readAll(scope: string | null = null): Promise<StoredConnectionStatus[]> {
    const refs = await this.scan(scope);
    const out: StoredConnectionStatus[] = [];
    for (let i = 0; i < refs.length; i += READ_BATCH) {
      const batch = await Promise.all(refs.slice(i, i + READ_BATCH).map((r) => this.read(r)));
      for (const status of batch) if (status !== null) out.push(status);
    }
    return out;
  }

  /**
   * Applies a manual action in Redis; `null` when Redis does not hold the connection (the
   * action creates nothing). Without `expiry`, an opening lasts what the connection's own
   * options say, else the default expiry: registry-wide options are not in Redis.
   */
  async act(
    ref: ConnectionRef,
    action: CliAction,
    reason: string | null,
    expiry: number | null,
  ): Promise<ScriptResult | null> {
    const current = await this.read(ref);
    if (current === null) return null;
    const scripts = await this.scriptsFor(ref);
    const settings = resolveSettings(NO_OPTIONS, current.options);
    const seq = ++this.seq;
    const reply = await this.command(() => scripts.act(ref, settings, action, expiry, reason, seq));
    return reply.found ? reply : null;
  }

  /**
   * The scripts to use on `ref`'s keys: written with no expiry when its state hash has none,
   * else with the default `keyTtl`.
   */
  private async scriptsFor(ref: ConnectionRef): Promise<RedisScripts> {
    const key = connectionKeys(this.prefix, ref.identifier, ref.scope).state;
    const pttl = await this.command(() => this.client.pttl(key));
    const ttl = pttl === -1 ? 0 : DEFAULT_KEY_TTL;
    let scripts = this.scripts.get(ttl);
    if (scripts === undefined) {
      scripts = new RedisScripts(this.client, {
        prefix: this.prefix,
        ttlMs: ttl,
        source: this.source,
      });
      this.scripts.set(ttl, scripts);
    }
    return scripts;
  }

  /** Runs a command; a failure becomes a `BRAMA_STORE_UNAVAILABLE` error naming Redis. */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof BramaError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const text = /timed out/i.test(message)
        ? `did not answer within ${ANSWER_MS / 1000} s`
        : `failed: ${message}`;
      throw new BramaError('BRAMA_STORE_UNAVAILABLE', `${redisName(this.url)} ${text}`, {
        cause: error,
      });
    }
  }
}

/** Connections without a scope first, then by scope and identifier. */
function compareRefs(a: ConnectionRef, b: ConnectionRef): number {
  if (a.scope !== b.scope) {
    if (a.scope === null) return -1;
    if (b.scope === null) return 1;
    return a.scope < b.scope ? -1 : 1;
  }
  return a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0;
}

/** Names a connection in messages: `"id"` or `"id" (scope "s")`. */
export function describeConnection(ref: ConnectionRef): string {
  const id = JSON.stringify(ref.identifier);
  return ref.scope === null ? id : `${id} (scope ${JSON.stringify(ref.scope)})`;
}

/** Whether a client is a Redis Cluster client (ioredis marks both kinds with `isCluster`). */
function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}
