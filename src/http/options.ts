import { createHash } from 'node:crypto';
import { readOptions } from '../core/arguments.js';
import { BramaError, invalidOption } from '../core/errors.js';
import { criticalPredicate, type CriticalSpec } from '../health.js';

/** Options of {@link statusHandler}. */
export interface StatusHandlerOptions {
  /**
   * A shared secret: every route then needs `Authorization: Bearer <token>` (the dashboard page
   * also accepts `?token=<token>` in its address and sends the header itself). Printable ASCII
   * without spaces. Default: no authentication.
   * @example statusHandler(brama, { token: process.env.BRAMA_STATUS_TOKEN })
   */
  token?: string | undefined;
  /**
   * Enables `POST /connections/{open|close|reset}`; requires `token`.
   * @default false
   */
  control?: boolean | undefined;
  /**
   * Which connections make `GET /health` answer `down` (503) when their circuit is open or
   * half-open: identifiers, or a predicate on the status (as for `brama.health`). Default: none.
   * @example statusHandler(brama, { critical: ['postgres'] })
   */
  critical?: CriticalSpec | undefined;
  /** @internal Milliseconds between SSE heartbeats (tests shorten it). */
  heartbeatMs?: number | undefined;
}

/** The validated, frozen settings of one handler. */
export interface HandlerSettings {
  /** SHA-256 of the token, compared in constant time; `null` without a token. */
  readonly tokenHash: Buffer | null;
  readonly control: boolean;
  readonly critical: CriticalSpec | undefined;
  readonly heartbeatMs: number;
}

const KEYS: ReadonlySet<string> = new Set(['token', 'control', 'critical', 'heartbeatMs']);

/** Heartbeat comments keep proxies from closing an idle event stream. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Validates the handler's options (`BRAMA_INVALID_OPTION`), never mutating them. */
export function parseHandlerOptions(options: unknown): HandlerSettings {
  const o = readOptions(options, 'statusHandler options', KEYS);
  const { token, control = false, critical, heartbeatMs = DEFAULT_HEARTBEAT_MS } = o;
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(token))) {
    throw invalidOption('token', 'a non-empty string of printable ASCII without spaces', token);
  }
  if (typeof control !== 'boolean') throw invalidOption('control', 'a boolean', control);
  if (control && token === undefined) {
    throw new BramaError(
      'BRAMA_INVALID_OPTION',
      'Invalid option "control": control routes change circuits, so they require a "token"',
    );
  }
  if (critical !== undefined) criticalPredicate(critical); // throws for a bad value
  if (
    typeof heartbeatMs !== 'number' ||
    !Number.isFinite(heartbeatMs) ||
    heartbeatMs < 1 ||
    heartbeatMs > 2_147_483_647
  ) {
    throw invalidOption(
      'heartbeatMs',
      'a number of milliseconds from 1 to 2147483647',
      heartbeatMs,
    );
  }
  return Object.freeze({
    tokenHash: token === undefined ? null : hashToken(token),
    control,
    // A copy: the caller's array may change later, the handler's settings do not.
    critical: (Array.isArray(critical)
      ? Object.freeze([...(critical as readonly string[])])
      : critical) as CriticalSpec | undefined,
    heartbeatMs,
  });
}

/** SHA-256 of a token: equal-length digests let the comparison run in constant time. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
