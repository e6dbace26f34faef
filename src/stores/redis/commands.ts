/**
 * Typed calls of brama's Lua scripts on an ioredis client. Scripts are registered with ioredis
 * `defineCommand`, which sends EVALSHA and falls back to EVAL when Redis answers NOSCRIPT (after
 * a restart or SCRIPT FLUSH). Only types are imported from ioredis: it is an optional peer.
 */
import type { Cluster, Redis } from 'ioredis';
import { BramaError } from '../../core/errors.js';
import type { Metadata } from '../../core/record.js';
import type { CircuitOptions, CircuitSettings } from '../../core/settings.js';
import type { ManualAction, Outcome } from '../store.js';
import { changesChannel, checkPrefix, connectionKeys, type ConnectionKeys } from './keys.js';
import { decodeDeleted, decodeReply, type ScriptReply } from './reply.js';
import { ACQUIRE_TRIAL_LUA } from './scripts/acquire-trial.js';
import { ACT_LUA } from './scripts/act.js';
import { CONFIGURE_LUA } from './scripts/configure.js';
import { DELETE_LUA } from './scripts/delete.js';
import { READ_LUA } from './scripts/read.js';
import { REGISTER_LUA } from './scripts/register.js';
import { REPORT_LUA } from './scripts/report.js';

/** A client brama can run its scripts on. */
export type RedisClient = Redis | Cluster;

/** Identifies one connection. */
export interface ConnectionRef {
  readonly identifier: string;
  readonly scope: string | null;
}

/** Options of {@link RedisScripts}. */
export interface RedisScriptsOptions {
  /** Namespace of every key (non-empty, without `{` or `}`). */
  readonly prefix: string;
  /** Keys expire this many ms after the connection's last activity (0: never). */
  readonly ttlMs: number;
  /** Names this process in the changes the scripts announce (so it can skip its own). */
  readonly source?: string | undefined;
}

/**
 * What a process knew about a connection before Redis lost its keys, in Redis server time:
 * `register` recreates the connection from it instead of starting over at `'unknown'`.
 */
export interface ConnectionSeed {
  readonly state: string;
  readonly failureCount: number;
  readonly openedAt: number | null;
  readonly openUntil: number | null;
  readonly openings: number;
  readonly changedAt: number;
  readonly totalFailures: number;
  readonly totalSuccesses: number;
  readonly lastFailureTime: number | null;
  readonly lastFailureReason: string | null;
  readonly lastSuccessTime: number | null;
}

/** ioredis command names: versioned, so two brama versions on one client cannot mix scripts. */
const COMMANDS = {
  register: ['bramaV1Register', REGISTER_LUA],
  report: ['bramaV1Report', REPORT_LUA],
  acquireTrial: ['bramaV1AcquireTrial', ACQUIRE_TRIAL_LUA],
  act: ['bramaV1Act', ACT_LUA],
  configure: ['bramaV1Configure', CONFIGURE_LUA],
  read: ['bramaV1Read', READ_LUA],
  delete: ['bramaV1Delete', DELETE_LUA],
} as const;

type CommandName = keyof typeof COMMANDS;

/** The effective settings as ARGV, in the order every script expects (common.ts `settings`). */
function settingsArgs(s: CircuitSettings): string[] {
  return [
    String(s.maxAttempts),
    String(s.expiry),
    s.expiryStrategy,
    String(s.initialExpiry),
    String(s.maxExpiry),
    String(s.backoffFactor),
    String(s.halfOpenProbes),
    String(s.probeTimeout),
  ];
}

/**
 * Metadata as a JSON object. Metadata is free-form: a BigInt becomes its decimal text, values
 * JSON cannot hold (functions, symbols) are dropped as JSON.stringify drops them, and a value
 * that cannot be serialized at all (a cycle) is shared as `{}` rather than failing the command.
 */
function jsonObject(value: Metadata): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return '{}';
  }
}

/** The scripts of one key prefix on one client, with typed arguments and replies. */
export class RedisScripts {
  private readonly prefix: string;
  private readonly ttl: string;
  private readonly channel: string;
  private readonly source: string;
  /** Keys by connection (the store passes its records): escaping them once, not per call. */
  private readonly keys = new WeakMap<ConnectionRef, ConnectionKeys>();

  constructor(
    private readonly client: RedisClient,
    options: RedisScriptsOptions,
  ) {
    this.prefix = checkPrefix(options.prefix);
    if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 0) {
      throw new BramaError(
        'BRAMA_INVALID_OPTION',
        `Invalid option "ttlMs": expected an integer >= 0, received ${String(options.ttlMs)}`,
      );
    }
    this.ttl = String(options.ttlMs);
    this.channel = changesChannel(this.prefix);
    this.source = options.source ?? '';
    for (const [name, lua] of Object.values(COMMANDS)) {
      client.defineCommand(name, { lua, numberOfKeys: 2 });
    }
  }

  /**
   * Creates the connection (from `seed` when given), or adopts the existing one without
   * changing its state.
   */
  register(
    ref: ConnectionRef,
    options: CircuitOptions,
    metadata: Metadata,
    seed: ConnectionSeed | null = null,
  ): Promise<ScriptReply> {
    return this.run('register', ref, [
      this.ttl,
      JSON.stringify(options),
      jsonObject(metadata),
      seed === null ? '' : JSON.stringify(seed),
    ]);
  }

  /** Replaces the connection's own options (and metadata unless `null`) fleet-wide. */
  configure(
    ref: ConnectionRef,
    options: CircuitOptions,
    metadata: Metadata | null,
  ): Promise<ScriptReply> {
    return this.run('configure', ref, [
      this.ttl,
      JSON.stringify(options),
      metadata === null ? '' : jsonObject(metadata),
    ]);
  }

  /**
   * Applies an outcome; `token` releases that half-open trial lease; `fence` is the generation
   * the call was admitted in (a result from an older one is counted but changes no state).
   */
  report(
    ref: ConnectionRef,
    settings: CircuitSettings,
    outcome: Outcome,
    reason: string | null,
    token: string | null,
    fence: number | null = null,
  ): Promise<ScriptReply> {
    return this.run('report', ref, [
      this.ttl,
      ...settingsArgs(settings),
      outcome,
      reason === null ? '' : `=${reason}`,
      token ?? '',
      fence === null ? '' : String(fence),
    ]);
  }

  /** May a call go ahead? In half-open, leases `token` as a trial when a slot is free. */
  acquireTrial(ref: ConnectionRef, settings: CircuitSettings, token: string): Promise<ScriptReply> {
    if (token === '') throw new BramaError('BRAMA_INVALID_ARGUMENT', 'A lease token is empty');
    return this.run('acquireTrial', ref, [this.ttl, ...settingsArgs(settings), token]);
  }

  /** Applies a manual action; `expiry` (ms) only for `'open'`, this opening only. */
  act(
    ref: ConnectionRef,
    settings: CircuitSettings,
    action: ManualAction,
    expiry: number | null,
    reason: string | null = null,
  ): Promise<ScriptReply> {
    return this.run('act', ref, [
      this.ttl,
      ...settingsArgs(settings),
      action,
      expiry === null ? '' : String(expiry),
      reason === null ? '' : `=${reason}`,
    ]);
  }

  /** The connection's settled state (reading is not activity). */
  read(ref: ConnectionRef): Promise<ScriptReply> {
    return this.run('read', ref, [this.ttl]);
  }

  /** Removes the connection's keys; resolves whether it existed. */
  async delete(ref: ConnectionRef): Promise<boolean> {
    return decodeDeleted(await this.call('delete', ref, [])).found;
  }

  private async run(name: CommandName, ref: ConnectionRef, args: string[]): Promise<ScriptReply> {
    return decodeReply(await this.call(name, ref, args));
  }

  private call(name: CommandName, ref: ConnectionRef, args: string[]): Promise<unknown> {
    let keys = this.keys.get(ref);
    if (keys === undefined) {
      keys = connectionKeys(this.prefix, ref.identifier, ref.scope);
      this.keys.set(ref, keys);
    }
    // defineCommand adds a method ioredis' types do not know; look it up instead of augmenting
    // the ioredis module (an augmentation would leak into every user's types).
    const command: unknown = Reflect.get(this.client, COMMANDS[name][0]);
    if (typeof command !== 'function') {
      return Promise.reject(new BramaError('BRAMA_CLOSED', `Script ${name} is not defined`));
    }
    const result: unknown = Reflect.apply(command, this.client, [
      keys.state,
      keys.trials,
      ...args,
      this.channel,
      this.source,
      ref.identifier,
      ref.scope ?? '',
    ]);
    return Promise.resolve(result);
  }
}
