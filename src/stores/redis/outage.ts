/**
 * Which errors of a Redis command mean an outage (the store degrades) and which concern one
 * command only (that connection is handled locally), and the errors the store reports.
 */
import { BramaError } from '../../core/errors.js';
import { reasonText } from '../../core/record.js';

/** Server replies that mean Redis cannot serve right now (as opposed to a bad command). */
const OUTAGE_REPLIES =
  /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS|MISCONF)\b/;

/**
 * Whether a command's error means Redis is unreachable or cannot serve. Errors about one
 * command are not: a reply error such as WRONGTYPE or a script error on a corrupted field, and
 * any BramaError (a reply brama cannot decode, an option out of range in the stored hash).
 */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name === 'ReplyError') return OUTAGE_REPLIES.test(error.message);
  if (error instanceof BramaError) return false;
  return true;
}

export function detail(cause: unknown): string {
  if (cause === null || cause === undefined) return 'no answer';
  return reasonText(cause) ?? 'unknown error';
}

export function unavailable(what: string, cause: unknown, target: string): BramaError {
  const because = cause === null || cause === undefined ? '' : `: ${detail(cause)}`;
  return new BramaError('BRAMA_STORE_UNAVAILABLE', `${what} (${target})${because}`, {
    cause: cause ?? undefined,
  });
}
