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
import { checkPrefix, connectionKeys } from './keys.js';
import { decodeDeleted, decodeReply, type ScriptReply } from './reply.js';
import { ACQUIRE_TRIAL_LUA } from './scripts/acquire-trial.js';
import { ACT_LUA } from './scripts/act.js';
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
}

/** ioredis command names: versioned, so two brama versions on one client cannot mix scripts. */
const COMMANDS = {
  register: ['bramaV1Register', REGISTER_LUA],
  report: ['bramaV1Report', REPORT_LUA],
  acquireTrial: ['bramaV1AcquireTrial', ACQUIRE_TRIAL_LUA],
  act: ['bramaV1Act', ACT_LUA],
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

/** The scripts of one key prefix on one client, with typed arguments and replies. */
export class RedisScripts {
  private readonly prefix: string;
  private readonly ttl: string;

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
    for (const [name, lua] of Object.values(COMMANDS)) {
      client.defineCommand(name, { lua, numberOfKeys: 2 });
    }
  }

  /** Creates the connection, or adopts the existing one without changing its state. */
  register(ref: ConnectionRef, options: CircuitOptions, metadata: Metadata): Promise<ScriptReply> {
    return this.run('register', ref, [this.ttl, JSON.stringify(options), JSON.stringify(metadata)]);
  }

  /** Applies an outcome; `token` releases that half-open trial lease. */
  report(
    ref: ConnectionRef,
    settings: CircuitSettings,
    outcome: Outcome,
    reason: string | null,
    token: string | null,
  ): Promise<ScriptReply> {
    return this.run('report', ref, [
      this.ttl,
      ...settingsArgs(settings),
      outcome,
      reason === null ? '' : `=${reason}`,
      token ?? '',
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
  ): Promise<ScriptReply> {
    return this.run('act', ref, [
      this.ttl,
      ...settingsArgs(settings),
      action,
      expiry === null ? '' : String(expiry),
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
    const keys = connectionKeys(this.prefix, ref.identifier, ref.scope);
    // defineCommand adds a method ioredis' types do not know; look it up instead of augmenting
    // the ioredis module (an augmentation would leak into every user's types).
    const command: unknown = Reflect.get(this.client, COMMANDS[name][0]);
    if (typeof command !== 'function') {
      return Promise.reject(new BramaError('BRAMA_CLOSED', `Script ${name} is not defined`));
    }
    const result: unknown = Reflect.apply(command, this.client, [keys.state, keys.trials, ...args]);
    return Promise.resolve(result);
  }
}
