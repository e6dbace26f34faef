/**
 * What the parts of the Redis store (leases, resync, upkeep) use of the store itself: its
 * attachments and the one way to send a command and route its answer. Internal.
 */
import type { ChangeKind, StoreHost } from '../store.js';
import type { RedisScripts } from './commands.js';
import type { RedisLink } from './link.js';
import type { RedisStoreSettings } from './options.js';
import type { ScriptReply, ScriptResult } from './reply.js';
import type { Entry } from './view.js';

/** Handles a command's answer; `sentEpoch` is the store's hint counter when it was sent. */
export type OnAnswer<R> = (answer: R, sentEpoch: number) => void;

/**
 * Handles a command's failure: `outage` when Redis is unreachable or cannot serve (the store
 * degrades), otherwise the error is about this command (see `isOutage`).
 */
export type OnError = (outage: boolean, error: unknown) => void;

/** The store as its parts see it. */
export interface StoreCore {
  readonly host: StoreHost;
  readonly link: RedisLink;
  readonly scripts: RedisScripts;
  readonly settings: RedisStoreSettings;
  /** Whether commands go to Redis now (attached, not closed, not degraded). */
  readonly online: boolean;
  /** The next sequence number for a command that must count once. */
  nextSeq(): number;
  /** Whether `entry` is still the registry's entry for its connection. */
  current(entry: Entry): boolean;
  /** Every entry. */
  entries(): Entry[];
  /**
   * Sends a command. Resolves (never rejects) once the answer or failure was handled;
   * `undefined` when nothing was sent (closed).
   */
  send<R extends ScriptReply | boolean>(
    command: (scripts: RedisScripts) => Promise<R>,
    onAnswer: OnAnswer<R>,
    onError?: OnError,
  ): Promise<void> | undefined;
  /** Brings the view to a state from Redis and emits what changed (`sentEpoch` null: a hint). */
  ingest(
    entry: Entry,
    result: ScriptResult,
    kind: ChangeKind,
    reason: unknown,
    sentEpoch: number | null,
  ): void;
  /**
   * Rebuilds (or adds this process's offline outcomes to) the connection in Redis from the
   * view; `then` runs once the answer is applied. Resolves like {@link send}.
   */
  sync(entry: Entry, then?: () => void): Promise<void> | undefined;
  /** Redis holds data for this connection that cannot be used: handle it locally for now. */
  broke(entry: Entry, error: unknown): void;
}
