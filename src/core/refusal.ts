/**
 * The error of a refused call, built cheaply. Building an `Error` costs V8 several hundred ns even
 * without a stack trace: during an outage, when every call is refused, that was most of a
 * refusal's cost. So the real `CircuitOpenError` is built once per circuit value (one open period,
 * or one set of half-open trials) as a *template*, and each refused caller gets its own small
 * object that inherits from it and carries its own fields.
 *
 * What callers get: a distinct object per refusal (annotating one never affects another) that is
 * `instanceof CircuitOpenError` and `Error`, passes `isBramaError(e, 'BRAMA_CIRCUIT_OPEN')`, has
 * its own `code`, `identifier`, `scope`, `state` and `retryAfterMs` (exact for this caller, fixed
 * at the refusal), a `message` naming that `retryAfterMs`, and a `stack` without frames (the
 * refusal is not a bug; frames would only point into brama). It is not a native error object:
 * `util.types.isNativeError(e)` is false and `structuredClone(e)` copies only its own fields.
 */
import { CircuitOpenError } from './circuit-open-error.js';
import type { Circuit, CircuitState } from './state.js';

/** The fields a refusal sets on its own object (the template's are read-only class fields). */
interface RefusalFields {
  code: 'BRAMA_CIRCUIT_OPEN';
  identifier: string;
  scope: string | null;
  state: CircuitState;
  retryAfterMs: number;
}

/** One template per circuit value: a circuit changes (a new object) with every transition. */
const templates = new WeakMap<Circuit, CircuitOpenError>();

/** The error for one refused call on `circuit`, `retryAfterMs` ms before it may admit one. */
export function refusal(
  identifier: string,
  scope: string | null,
  circuit: Circuit,
  retryAfterMs: number,
): CircuitOpenError {
  let template = templates.get(circuit);
  if (template === undefined) {
    template = templateFor(identifier, scope, circuit.state);
    templates.set(circuit, template);
  }
  const error = Object.create(template) as RefusalFields;
  error.code = 'BRAMA_CIRCUIT_OPEN';
  error.identifier = identifier;
  error.scope = scope;
  error.state = circuit.state;
  error.retryAfterMs = retryAfterMs;
  return error as unknown as CircuitOpenError;
}

/** The message of a refusal; the same text as `new CircuitOpenError(...)` builds. */
function messageOf(e: RefusalFields): string {
  const where = e.scope === null ? '' : `${e.scope}/`;
  return `Circuit ${where}${e.identifier} is ${e.state}; retry after ${e.retryAfterMs} ms`;
}

/**
 * A real `CircuitOpenError` whose `message` and `stack` are computed from the object they are
 * read on, so every refusal inheriting from it describes itself. Writing either (some frameworks
 * prefix messages) gives that refusal its own value, as on any error.
 */
function templateFor(
  identifier: string,
  scope: string | null,
  state: CircuitState,
): CircuitOpenError {
  const template = CircuitOpenError.refusal(identifier, scope, state, 0);
  const derived = (read: (e: RefusalFields & { name: string }) => string): PropertyDescriptor => ({
    configurable: true,
    enumerable: false,
    get(this: RefusalFields & { name: string }): string {
      return read(this);
    },
  });
  Object.defineProperties(template, {
    message: { ...derived(messageOf), set: ownValue('message') },
    stack: { ...derived((e) => `${e.name}: ${messageOf(e)}`), set: ownValue('stack') },
    // `Object.prototype.toString` says "[object Error]" for refusals too, as for native errors.
    [Symbol.toStringTag]: { value: 'Error', configurable: true },
  });
  return template;
}

function ownValue(key: 'message' | 'stack'): (this: object, value: unknown) => void {
  return function (this: object, value: unknown): void {
    Object.defineProperty(this, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
}
