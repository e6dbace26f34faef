import { describe, expect, it } from 'vitest';
import { Brama, circuitBreaker, isBramaError } from './index.js';
import { isBrama } from './is-brama.js';
import { setState } from './testing/index.js';

describe('isBrama', () => {
  it('recognises a registry by its registered brand, not by its class', () => {
    expect(isBrama(new Brama({ cleanupInterval: 0 }))).toBe(true);
    // What a registry of another copy of brama (the other build, a duplicate install) looks like
    // from here: a different class, the same `Symbol.for` key.
    const otherCopy = { [Symbol.for('brama.internals')]: () => ({}) };
    expect(isBrama(otherCopy)).toBe(true);
  });

  it.each([
    ['an empty object', {}],
    ['null', null],
    ['a string', 'brama'],
    ['a function', () => undefined],
    ['the brand without a function', { [Symbol.for('brama.internals')]: true }],
    ['a look-alike with a local symbol', { [Symbol('brama.internals')]: () => ({}) }],
  ])('rejects %s', (_what, value) => {
    expect(isBrama(value)).toBe(false);
  });

  it('the testing kit and the decorator reject what is not a registry, naming the value', () => {
    const errors = [
      () => setState({} as Brama, 'db', 'open'),
      () => circuitBreaker('brama' as unknown as Brama, { identifier: 'db' }),
    ].map((fn) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return null;
    });
    expect(errors.every((e) => isBramaError(e, 'BRAMA_INVALID_ARGUMENT'))).toBe(true);
    expect(String(errors[0])).toContain('expected a Brama instance, received [object Object]');
    expect(String(errors[1])).toContain('received "brama"');
  });
});
