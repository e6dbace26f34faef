/**
 * Typed calls of brama's Lua scripts on an ioredis client. Scripts are registered with ioredis
 * `defineCommand`, which sends EVALSHA and falls back to EVAL when Redis answers NOSCRIPT (after
 * a restart or SCRIPT FLUSH). Only types are imported from ioredis: it is an optional peer.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { BramaError } from '../../core/errors.js';
import type { Metadata } from '../../core/record.js';
import { addOutcome, emptyBatch, type OutcomeBatch } from '../../core/outcome-batch.js';
import type { CircuitOptions, CircuitSettings } from '../../core/settings.js';
import type { ManualAction, Outcome } from '../store.js';
import { changesChannel, checkPrefix, connectionKeys, type ConnectionKeys } from './keys.js';
import {
  decodeFound,
  decodeRefreshReply,
  decodeReply,
  decodeReportReply,
  type RefreshReply,
  type ReportReply,
  type ScriptReply,
} from './reply.js';
import { ACQUIRE_TRIAL_LUA } from './scripts/acquire-trial.js';
import { ACT_LUA } from './scripts/act.js';
import { CONFIGURE_LUA } from './scripts/configure.js';
import { DELETE_LUA } from './scripts/delete.js';
import { READ_LUA } from './scripts/read.js';
import { REGISTER_LUA } from './scripts/register.js';
import { REFRESH_LUA } from './scripts/refresh.js';
import { REPORT_LUA } from './scripts/report.js';
import { SYNC_LUA } from './scripts/sync.js';
import { TOUCH_TRIAL_LUA } from './scripts/touch-trial.js';

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
  /**
   * Names this process in the changes the scripts announce (so it can skip its own) and in the
   * sequence numbers that make commands count once. @default a random UUID
   */
  readonly source?: string | undefined;
  /**
   * A report that changes no state announces the connection when its last announcement is at
   * least this old (ms). @default 250
   */
  readonly announceEvery?: number | undefined;
  /**
   * Every report takes the full path: its reply is the whole connection (for tests that compare
   * whole states after every report). @default false
   */
  readonly fullReports?: boolean | undefined;
}

/**
 * What a process knew about a connection, in Redis server time: `sync` rebuilds a connection
 * Redis has lost from it instead of starting over at `'unknown'`. The totals are those last seen
 * in Redis (outcomes counted while degraded travel in a {@link ConnectionDelta}).
 */
export interface ConnectionSeed {
  /** The registeredAt of the connection the view last loaded (-1: none): merged only once. */
  readonly born: number;
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

/** Outcomes a process counted while it could not reach Redis (times in server time). */
export interface ConnectionDelta {
  readonly successes: number;
  readonly failures: number;
  readonly lastFailureTime: number | null;
  readonly lastFailureReason: string | null;
  readonly lastSuccessTime: number | null;
}

/** How a report applies: fully, or (an outcome replayed after an outage) to the totals only. */
export type ReportMode = 'apply' | 'totals';

/** ioredis command names: versioned, so two brama versions on one client cannot mix scripts. */
const COMMANDS = {
  register: ['bramaV2Register', REGISTER_LUA],
  report: ['bramaV2Report', REPORT_LUA],
  acquireTrial: ['bramaV2AcquireTrial', ACQUIRE_TRIAL_LUA],
  act: ['bramaV2Act', ACT_LUA],
  configure: ['bramaV2Configure', CONFIGURE_LUA],
  read: ['bramaV2Read', READ_LUA],
  delete: ['bramaV2Delete', DELETE_LUA],
  sync: ['bramaV2Sync', SYNC_LUA],
  refresh: ['bramaV2Refresh', REFRESH_LUA],
  touchTrial: ['bramaV2TouchTrial', TOUCH_TRIAL_LUA],
} as const;

type CommandName = keyof typeof COMMANDS;

/** The report script's mode argument: lean path allowed, or full path only (`fullReports`). */
const MODE_ARGS = { apply: ['', 'full'], totals: ['totals', 'full totals'] } as const;

/** The effective settings as one ARGV string (scripts/common.ts SETTINGS_DOC). */
function settingsText(s: CircuitSettings): string {
  const calls = 'calls' in s.window;
  return [
    s.maxAttempts,
    s.tripPolicy,
    s.expiry,
    s.expiryStrategy,
    s.initialExpiry,
    s.maxExpiry,
    s.backoffFactor,
    s.halfOpenProbes,
    s.probeTimeout,
    s.failureRateThreshold,
    s.slowCallMs === null ? '0' : '1',
    s.slowCallRateThreshold,
    calls ? 'calls' : 'ms',
    'calls' in s.window ? s.window.calls : s.window.ms,
    s.minimumCalls,
    s.successThreshold,
    s.rampUpMs,
  ].join(' ');
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
  private readonly announceEvery: number;
  private readonly fullReports: boolean;
  /** Keys by connection (the store passes its records): escaping them once, not per call. */
  private readonly keys = new WeakMap<ConnectionRef, ConnectionKeys>();
  /**
   * The settings argument by settings object, built once: a record keeps its effective settings
   * object until they change (the registry then makes a new one), and connections that inherit
   * everything share one.
   */
  private readonly settingsArgs = new WeakMap<CircuitSettings, string>();

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
    this.source = options.source ?? randomUUID();
    this.announceEvery = options.announceEvery ?? 250;
    this.fullReports = options.fullReports ?? false;
    for (const [name, lua] of Object.values(COMMANDS)) {
      client.defineCommand(name, { lua, numberOfKeys: 3 });
    }
  }

  /** Creates the connection in `'unknown'`, or adopts the existing one without changing it. */
  register(ref: ConnectionRef, options: CircuitOptions, metadata: Metadata): Promise<ScriptReply> {
    return this.run('register', ref, null, [
      this.ttl,
      JSON.stringify(options),
      jsonObject(metadata),
    ]);
  }

  /**
   * After an outage, or when Redis answered that it does not hold the connection: rebuilds it
   * from `seed` if Redis lost it (merging seeds while it is being rebuilt) and adds `delta`,
   * the outcomes counted meanwhile. `seq` makes it count once (scripts/sync.ts).
   */
  sync(
    ref: ConnectionRef,
    options: CircuitOptions,
    metadata: Metadata,
    seed: ConnectionSeed | null,
    delta: ConnectionDelta | null,
    seq: number | null,
  ): Promise<ScriptReply> {
    return this.run('sync', ref, seq, [
      this.ttl,
      JSON.stringify(options),
      jsonObject(metadata),
      seed === null ? '' : JSON.stringify(seed),
      delta === null ? '' : JSON.stringify(delta),
    ]);
  }

  /** Replaces the connection's own options (and metadata unless `null`) fleet-wide. */
  configure(
    ref: ConnectionRef,
    options: CircuitOptions,
    metadata: Metadata | null,
    seq: number | null = null,
  ): Promise<ScriptReply> {
    return this.run('configure', ref, seq, [
      this.ttl,
      JSON.stringify(options),
      metadata === null ? '' : jsonObject(metadata),
    ]);
  }

  /**
   * Applies one outcome; `token` releases that half-open trial lease; `fence` is the generation
   * the trial was admitted in (its result cannot decide a later half-open period); `seq` makes
   * a resend count once; `mode: 'totals'` counts it without moving the state.
   */
  report(
    ref: ConnectionRef,
    settings: CircuitSettings,
    outcome: Outcome,
    reason: string | null,
    token: string | null,
    fence: number | null = null,
    seq: number | null = null,
    mode: ReportMode = 'apply',
  ): Promise<ReportReply> {
    const batch = emptyBatch();
    if (outcome !== 'ignore') addOutcome(batch, outcome, reason);
    return this.reportBatch(ref, settings, batch, token, fence, seq, mode);
  }

  /**
   * Applies a batch of outcomes one by one, in order (see {@link report}); `retryAfterMs`: the
   * batch's last failure asked for a pause (such a batch holds that one failure).
   */
  async reportBatch(
    ref: ConnectionRef,
    settings: CircuitSettings,
    batch: OutcomeBatch,
    token: string | null,
    fence: number | null = null,
    seq: number | null = null,
    mode: ReportMode = 'apply',
    retryAfterMs: number | null = null,
  ): Promise<ReportReply> {
    const reason = batch.failures > 0 ? batch.lastFailureReason : null;
    const reply = await this.call('report', ref, [
      this.ttl,
      this.settingsArg(settings),
      String(batch.successes),
      String(batch.failures),
      String(batch.head),
      String(batch.run),
      String(batch.tail),
      reason === null ? '' : `=${reason}`,
      token ?? '',
      fence === null ? '' : String(fence),
      MODE_ARGS[mode][this.fullReports ? 1 : 0],
      String(this.announceEvery),
      batch.codes,
      retryAfterMs === null ? '' : String(retryAfterMs),
      ...this.tail(ref, seq),
    ]);
    return decodeReportReply(reply);
  }

  /**
   * May a call go ahead? In half-open, leases `token` as a trial when a slot is free; the lease
   * lives `holdMs` + probeTimeout (see {@link touchTrial}).
   */
  acquireTrial(
    ref: ConnectionRef,
    settings: CircuitSettings,
    token: string,
    holdMs = 0,
  ): Promise<ScriptReply> {
    if (token === '') throw new BramaError('BRAMA_INVALID_ARGUMENT', 'A lease token is empty');
    return this.run('acquireTrial', ref, null, [
      this.ttl,
      this.settingsArg(settings),
      token,
      String(holdMs),
    ]);
  }

  /** A call took the leased slot `token`: it lapses `probeTimeout` ms from now. */
  async touchTrial(ref: ConnectionRef, token: string, probeTimeout: number): Promise<boolean> {
    const reply = await this.call('touchTrial', ref, [token, String(probeTimeout)]);
    return decodeFound(reply).found;
  }

  /** Applies a manual action; `expiry` (ms) only for `'open'`, this opening only. */
  act(
    ref: ConnectionRef,
    settings: CircuitSettings,
    action: ManualAction,
    expiry: number | null,
    reason: string | null = null,
    seq: number | null = null,
  ): Promise<ScriptReply> {
    return this.run('act', ref, seq, [
      this.ttl,
      this.settingsArg(settings),
      action,
      expiry === null ? '' : String(expiry),
      reason === null ? '' : `=${reason}`,
    ]);
  }

  /** The connection's settled state (reading is not activity). */
  read(ref: ConnectionRef): Promise<ScriptReply> {
    return this.run('read', ref, null, [this.ttl]);
  }

  /**
   * Announces the connection's counters if they changed since its last announcement and that
   * announcement is at least the announce interval old; answers with them (with the whole
   * connection when it had to record the end of an open period).
   */
  async refresh(ref: ConnectionRef): Promise<RefreshReply> {
    const args = [this.ttl, String(this.announceEvery), ...this.tail(ref, null)];
    return decodeRefreshReply(await this.call('refresh', ref, args));
  }

  /** Removes the connection's keys; resolves whether it existed. */
  async delete(ref: ConnectionRef): Promise<boolean> {
    return decodeFound(await this.call('delete', ref, [])).found;
  }

  private async run(
    name: CommandName,
    ref: ConnectionRef,
    seq: number | null,
    args: string[],
  ): Promise<ScriptReply> {
    return decodeReply(await this.call(name, ref, [...args, ...this.tail(ref, seq)]));
  }

  private settingsArg(settings: CircuitSettings): string {
    let text = this.settingsArgs.get(settings);
    if (text === undefined) {
      text = settingsText(settings);
      this.settingsArgs.set(settings, text);
    }
    return text;
  }

  /** The common ARGV tail (scripts/common.ts TAIL_DOC). */
  private tail(ref: ConnectionRef, seq: number | null): string[] {
    return [this.channel, this.source, this.keysOf(ref).tag, seq === null ? '' : String(seq)];
  }

  private keysOf(ref: ConnectionRef): ConnectionKeys {
    let keys = this.keys.get(ref);
    if (keys === undefined) {
      keys = connectionKeys(this.prefix, ref.identifier, ref.scope);
      this.keys.set(ref, keys);
    }
    return keys;
  }

  private call(name: CommandName, ref: ConnectionRef, args: string[]): Promise<unknown> {
    const keys = this.keysOf(ref);
    // defineCommand adds a method ioredis' types do not know; look it up instead of augmenting
    // the ioredis module (an augmentation would leak into every user's types).
    const command: unknown = Reflect.get(this.client, COMMANDS[name][0]);
    if (typeof command !== 'function') {
      return Promise.reject(new BramaError('BRAMA_CLOSED', `Script ${name} is not defined`));
    }
    const result: unknown = Reflect.apply(command, this.client, [
      keys.state,
      keys.trials,
      keys.window,
      ...args,
    ]);
    return Promise.resolve(result);
  }
}
