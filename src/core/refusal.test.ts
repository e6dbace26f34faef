import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BramaError, CircuitOpenError, isBramaError } from '../index.js';
import { refusal } from './refusal.js';
import { initialCircuit, type Circuit } from './state.js';

const open: Circuit = { ...initialCircuit(0), state: 'open', openUntil: 1_000, generation: 1 };

describe('refusal errors', () => {
  it('are CircuitOpenErrors with their own fields, exact for each caller', () => {
    const first = refusal('db', 'pg', open, 750);
    const second = refusal('db', 'pg', open, 20);
    expect(first).not.toBe(second);
    for (const [error, ms] of [
      [first, 750],
      [second, 20],
    ] as const) {
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).toBeInstanceOf(BramaError);
      expect(error).toBeInstanceOf(Error);
      expect(isBramaError(error, 'BRAMA_CIRCUIT_OPEN')).toBe(true);
      expect(error.name).toBe('CircuitOpenError');
      expect(Object.keys(error)).toEqual(['code', 'identifier', 'scope', 'state', 'retryAfterMs']);
      expect(error).toMatchObject({
        identifier: 'db',
        scope: 'pg',
        state: 'open',
        retryAfterMs: ms,
      });
      expect(error.message).toBe(`Circuit pg/db is open; retry after ${ms} ms`);
      expect(error.stack).toBe(`CircuitOpenError: ${error.message}`);
      expect(String(error)).toBe(`CircuitOpenError: ${error.message}`);
      expect(Object.prototype.toString.call(error)).toBe('[object Error]');
    }
  });

  it('say the same as a CircuitOpenError built directly', () => {
    const built = new CircuitOpenError('db', null, 'half_open', 5);
    const refused = refusal('db', null, { ...open, state: 'half_open' }, 5);
    expect(refused.message).toBe(built.message);
    expect(JSON.stringify(refused)).toBe(JSON.stringify(built));
  });

  it('share one template per circuit value: a new open period gets a new one', () => {
    const a = refusal('db', null, open, 1);
    const b = refusal('db', null, open, 2);
    const reopened: Circuit = { ...open, openUntil: 2_000, generation: 3 };
    const c = refusal('db', null, reopened, 3);
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    expect(Object.getPrototypeOf(c)).not.toBe(Object.getPrototypeOf(a));
    expect(types.isNativeError(Object.getPrototypeOf(a))).toBe(true); // the template
  });

  it('can be annotated like any error without affecting other refusals', () => {
    const a = refusal('db', null, open, 1);
    const b = refusal('db', null, open, 2);
    a.message = `request 42: ${a.message}`;
    a.stack = 'custom';
    (a as unknown as { requestId: number }).requestId = 42;
    expect(a.message).toBe('request 42: Circuit db is open; retry after 1 ms');
    expect(a.stack).toBe('custom');
    expect(Object.keys(a)).not.toContain('message'); // not enumerable, as on native errors
    expect(b.message).toBe('Circuit db is open; retry after 2 ms');
    expect(b.stack).toBe(`CircuitOpenError: ${b.message}`);
    expect(b).not.toHaveProperty('requestId');
  });
});
