/** Stable codes carried by every {@link BramaError}. */
export type BramaErrorCode =
  | 'BRAMA_INVALID_ARGUMENT'
  | 'BRAMA_INVALID_OPTION'
  | 'BRAMA_NOT_FOUND'
  | 'BRAMA_ALREADY_REGISTERED'
  | 'BRAMA_CIRCUIT_OPEN'
  | 'BRAMA_TIMEOUT'
  | 'BRAMA_CLOSED'
  | 'BRAMA_STORE_UNAVAILABLE';

const BRAND = Symbol.for('brama.error');

/** The one error family of brama: every error it throws is a `BramaError` with a stable `code`. */
export class BramaError extends Error {
  /** Stable, documented code; check it with {@link isBramaError} rather than `instanceof`. */
  readonly code: BramaErrorCode;

  constructor(code: BramaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'BramaError';
  }
}

// The brand lives on the prototype (no per-instance cost); `Symbol.for` makes it the same key in
// every copy of brama, so `isBramaError` (is-brama-error.ts) recognises errors from a duplicate
// install.
Object.defineProperty(BramaError.prototype, BRAND, { value: true });

/** Whether `value` carries the brand of a `BramaError` from any copy of brama. */
export function branded(value: unknown): value is BramaError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; [BRAND]?: unknown };
  return candidate[BRAND] === true && typeof candidate.code === 'string';
}

/** Renders a received value for an error message: short, never throws. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') {
    try {
      return `function ${value.name || '(anonymous)'}`;
    } catch {
      return 'function';
    }
  }
  if (typeof value === 'symbol') return value.toString();
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  try {
    if (Array.isArray(value)) return `array(${value.length})`;
    const proto: unknown = Object.getPrototypeOf(value);
    const ctor =
      proto && typeof proto === 'object' && 'constructor' in proto
        ? (proto.constructor as { name?: string }).name
        : undefined;
    return ctor && ctor !== 'Object' ? `[object ${ctor}]` : '[object Object]';
  } catch {
    return '[object]';
  }
}

/** Shorthand for a `BRAMA_INVALID_ARGUMENT` error. */
export function invalidArgument(what: string, expected: string, received: unknown): BramaError {
  return new BramaError(
    'BRAMA_INVALID_ARGUMENT',
    `Invalid ${what}: expected ${expected}, received ${describe(received)}`,
  );
}

/** Shorthand for a `BRAMA_INVALID_OPTION` error. */
export function invalidOption(option: string, expected: string, received: unknown): BramaError {
  return new BramaError(
    'BRAMA_INVALID_OPTION',
    `Invalid option "${option}": expected ${expected}, received ${describe(received)}`,
  );
}

/**
 * The error of a `store_degraded` event: the `BRAMA_STORE_UNAVAILABLE` error the store reported,
 * or one wrapping whatever else it reported (as `cause`).
 */
export function storeUnavailable(detail: unknown): BramaError {
  if (branded(detail)) return detail;
  const what = detail instanceof Error ? detail.message : describe(detail);
  return new BramaError('BRAMA_STORE_UNAVAILABLE', `The store lost its backend: ${what}`, {
    cause: detail,
  });
}
