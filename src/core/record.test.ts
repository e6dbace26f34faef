import { describe, expect, it } from 'vitest';
import { reasonText, UNPRINTABLE_REASON } from './record.js';

describe('reasonText', () => {
  it('keeps strings, renders errors as Name: message, other values where meaningful', () => {
    expect(reasonText('timeout')).toBe('timeout');
    expect(reasonText(new TypeError('bad'))).toBe('TypeError: bad');
    expect(reasonText({ message: 'plain object error' })).toBe('plain object error');
    expect(reasonText(503)).toBe('503');
    expect(reasonText(false)).toBe('false');
    expect(reasonText(null)).toBeNull();
    expect(reasonText(undefined)).toBeNull();
    expect(reasonText({ code: 1 })).toBeNull();
    expect(reasonText(Symbol('s'))).toBeNull();
  });
});

describe('reasonText with values that throw while being read', () => {
  it('keeps a placeholder instead of throwing', () => {
    class Loud extends Error {
      override get name(): string {
        throw new Error('name getter');
      }
    }
    const throwingToString = Object.assign(new Error('x'), {
      toString(): string {
        throw new Error('toString');
      },
    });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const throwingMessage = {
      get message(): string {
        throw new Error('message getter');
      },
    };
    for (const reason of [new Loud('boom'), throwingToString, proxy, throwingMessage]) {
      expect(reasonText(reason)).toBe(UNPRINTABLE_REASON);
    }
  });
});
