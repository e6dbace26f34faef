import { describe, expect, it } from 'vitest';
import { reasonText } from './record.js';

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
