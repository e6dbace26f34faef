import { describe, expect, it } from 'vitest';
import { toJson } from './json.js';

describe('toJson', () => {
  it('never throws and keeps what JSON can carry', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    const value = {
      big: 12n,
      error: new Error('nope'),
      empty: new Error(''),
      date: new Date(0),
      map: new Map<unknown, unknown>([
        ['k', 1],
        [2, 'two'],
      ]),
      set: new Set([1, 2]),
      fn: () => 1,
      sym: Symbol('s'),
      nan: Number.NaN,
      cyclic,
      hostile,
      badJson: {
        toJSON: () => {
          throw new Error('toJSON');
        },
      },
      ['__proto__']: 'data',
    };
    Object.defineProperty(value, '__proto__', { value: 'data', enumerable: true });
    const parsed = JSON.parse(toJson(value)) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      big: '12',
      error: 'nope',
      empty: 'Error',
      date: '1970-01-01T00:00:00.000Z',
      map: { k: 1, '2': 'two' },
      set: [1, 2],
      nan: null,
      cyclic: { a: 1, self: '[Circular]' },
      hostile: '[Unreadable]',
      badJson: '[Unreadable]',
    });
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('data');
    expect(parsed).not.toHaveProperty('fn');
    expect(toJson(undefined)).toBe('null');
  });

  it('cuts off deep nesting instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep = deep.next = {};
    expect(toJson(root)).toContain('[Truncated]');
  });
});
