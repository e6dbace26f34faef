/**
 * `POST /connections/{open|close|reset}`: manual actions over HTTP. The body is checked here
 * field by field, so a bad request gets a 400 naming the field before brama is touched.
 */
import type { Brama } from '../brama.js';
import type { ConnectionStatus } from '../core/status.js';
import { HttpError } from './respond.js';

/** The manual actions the control routes offer. */
export type ControlAction = 'open' | 'close' | 'reset';

/** Whether a path segment names a control action. */
export function isControlAction(value: string): value is ControlAction {
  return value === 'open' || value === 'close' || value === 'reset';
}

interface ControlBody {
  identifier: string;
  scope: string | null;
  reason: string | undefined;
  expiry: number | undefined;
}

const KEYS: Readonly<Record<ControlAction, ReadonlySet<string>>> = {
  open: new Set(['identifier', 'scope', 'reason', 'expiry']),
  close: new Set(['identifier', 'scope', 'reason']),
  reset: new Set(['identifier', 'scope', 'reason']),
};

/** Checks a control body: known keys only, each of the right type. Throws a 400. */
export function readControlBody(action: ControlAction, body: Record<string, unknown>): ControlBody {
  const allowed = KEYS[action];
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) {
      throw bad(`Unknown field ${JSON.stringify(key)} (allowed: ${[...allowed].join(', ')})`);
    }
  }
  const { identifier, scope, reason, expiry } = body;
  if (typeof identifier !== 'string' || identifier === '') {
    throw bad('"identifier" must be a non-empty string');
  }
  if (scope !== undefined && scope !== null && (typeof scope !== 'string' || scope === '')) {
    throw bad('"scope" must be a non-empty string or null');
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw bad('"reason" must be a string or null');
  }
  if (expiry !== undefined && (typeof expiry !== 'number' || !Number.isFinite(expiry))) {
    throw bad('"expiry" must be a number of milliseconds');
  }
  return {
    identifier,
    scope: scope ?? null,
    reason: reason ?? undefined,
    expiry,
  };
}

/** Applies the action and returns the connection's status after it (brama's errors pass up). */
export function applyControl(
  brama: Brama,
  action: ControlAction,
  body: ControlBody,
): ConnectionStatus {
  const { identifier, scope, reason, expiry } = body;
  switch (action) {
    case 'open':
      brama.openCircuit(identifier, { scope, reason, expiry });
      break;
    case 'close':
      brama.closeCircuit(identifier, { scope, reason });
      break;
    case 'reset':
      brama.resetCircuit(identifier, { scope, reason });
      break;
  }
  return brama.status(identifier, { scope });
}

function bad(message: string): HttpError {
  return new HttpError(400, 'BRAMA_BAD_REQUEST', `Bad request body: ${message}`);
}
