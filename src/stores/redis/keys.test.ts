import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBramaError } from '../../core/is-brama-error.js';
import {
  changesChannel,
  checkPrefix,
  connectionKeys,
  connectionTag,
  keyPattern,
  parseKey,
  parseTag,
} from './keys.js';

describe('redis keys', () => {
  it('builds the documented layout', () => {
    expect(connectionKeys('brama', 'db', 'payments')).toEqual({
      state: 'brama:{payments|db}:state',
      trials: 'brama:{payments|db}:trials',
      window: 'brama:{payments|db}:window',
      tag: '{payments|db}',
    });
    expect(connectionKeys('brama', 'db', null).state).toBe('brama:{|db}:state');
    expect(changesChannel('brama')).toBe('brama:changes');
  });

  it('never collides for tricky identifiers and scopes', () => {
    const cases: [string, string | null][] = [
      ['a', 'b'],
      ['b|a', null],
      ['a', null],
      ['b:a', null],
      ['|a', 'b'],
      ['a', 'b|'],
      ['a}', 'b'],
      ['{a}', null],
      ['a', '{b}'],
      ['%7C', null],
      ['|', null],
      ['%', null],
      ['%25', null],
      ['é', null],
      ['e\u0301', null],
      ['😀', 'ü'],
      ['a', 'b:c'],
      ['\uD800', null],
      ['\uFFFD', null],
      ['%ud800', null],
      ['\uDC00\uD800', null],
      ['b:c|a', null],
    ];
    // Compared as the UTF-8 bytes Redis stores.
    const tags = cases.map(([id, scope]) => Buffer.from(connectionTag(id, scope)).toString('hex'));
    expect(new Set(tags).size).toBe(cases.length);
    expect(connectionTag('a', 'b')).toBe('{b|a}');
    expect(connectionTag('b|a', null)).toBe('{|b%7ca}');
  });

  it('is injective on random identifiers and scopes, as UTF-8 bytes (property)', () => {
    const part = fc.string({
      minLength: 1,
      unit: fc.oneof(
        fc.constantFrom('|', '{', '}', '%', '7', 'c', 'u', 'd'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
    });
    const ref = fc.tuple(part, fc.option(part));
    fc.assert(
      fc.property(ref, ref, ([a, sa], [b, sb]) => {
        const same = a === b && sa === sb;
        const bytes = (id: string, scope: string | null): string =>
          Buffer.from(connectionTag(id, scope)).toString('hex');
        expect(bytes(a, sa) === bytes(b, sb)).toBe(same);
      }),
    );
  });

  it('reads every tag back to exactly its identifier and scope (property)', () => {
    const part = fc.string({
      minLength: 1,
      unit: fc.oneof(
        fc.constantFrom('|', '{', '}', '%', '%7c', '%u', 'u'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      ),
    });
    fc.assert(
      fc.property(part, fc.option(part), (identifier, scope) => {
        const tag = connectionTag(identifier, scope);
        expect(parseTag(tag)).toEqual({ identifier, scope });
        // Through UTF-8 and back (pub/sub, Lua): still the same connection.
        expect(parseTag(Buffer.from(tag, 'utf8').toString('utf8'))).toEqual({ identifier, scope });
      }),
    );
    for (const bad of ['', '{}', '{|}', '{a|b', 'a|b}', '{a|b|c}', '{%zz|a}', '{a|%}', '{%41|a}'])
      expect(parseTag(bad), bad).toBeNull();
  });

  it('reads every key back to its connection and part (parseKey)', () => {
    const cases: [string, string | null][] = [
      ['db', 'payments'],
      ['db', null],
      ['b:c|a', null],
      ['a:b', 'c:d'],
      ['{a}', '|'],
      ['%7c', '%'],
      ['\uD800', null], // a lone surrogate: escaped, so it survives UTF-8
      ['x\uDC00y', '\uDBFF'],
      ['😀', 'ü'],
      [':state', ':trials'],
    ];
    for (const prefix of ['brama', 'a:b', 'p*?[x]\\']) {
      for (const [identifier, scope] of cases) {
        const keys = connectionKeys(prefix, identifier, scope);
        for (const part of ['state', 'trials', 'window'] as const) {
          // As SCAN returns it: UTF-8 from Redis, decoded.
          const key = Buffer.from(keys[part], 'utf8').toString('utf8');
          expect(parseKey(prefix, key)).toEqual({ identifier, scope, part });
        }
      }
    }
  });

  it('reads back random connections (parseKey, property)', () => {
    const part = fc.string({
      minLength: 1,
      unit: fc.oneof(
        fc.constantFrom('|', '{', '}', '%', ':', 'state', '%7c'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      ),
    });
    fc.assert(
      fc.property(part, fc.option(part), (identifier, scope) => {
        const key = connectionKeys('p:q', identifier, scope).state;
        expect(parseKey('p:q', key)).toEqual({ identifier, scope, part: 'state' });
        expect(parseKey('p', key)).toBeNull(); // another prefix's key, matched by "p:*"
      }),
    );
  });

  it('rejects keys it could not have built (parseKey)', () => {
    for (const bad of [
      'brama:changes',
      'brama:heartbeat:abc',
      'brama:{|a}',
      'brama:{|a}:other',
      'brama:{|a}:state:x',
      'brama:{|a}state',
      'brama:{a}:state',
      'brama:{|%41}:state',
      'brama:{|}:state',
      'brama:x:{|a}:state',
      'other:{|a}:state',
      'bramax:{|a}:state',
      '{|a}:state',
    ])
      expect(parseKey('brama', bad), bad).toBeNull();
  });

  it('puts exactly one hash tag in every key, so both keys share a cluster slot', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.option(fc.string({ minLength: 1 })),
        (id, scope) => {
          const { state, trials, window } = connectionKeys('p', id, scope);
          for (const key of [state, trials, window]) {
            expect(key.split('{').length).toBe(2);
            expect(key.split('}').length).toBe(2);
          }
          const tag = (key: string): string => key.slice(key.indexOf('{'), key.indexOf('}') + 1);
          expect(tag(state)).toBe(tag(trials));
          expect(tag(state)).toBe(tag(window));
        },
      ),
    );
  });

  it('validates the prefix', () => {
    expect(checkPrefix('brama')).toBe('brama');
    for (const bad of ['', 'a{b', 'a}', 42, null, undefined]) {
      let thrown: unknown;
      try {
        checkPrefix(bad);
      } catch (e) {
        thrown = e;
      }
      expect(isBramaError(thrown, 'BRAMA_INVALID_OPTION')).toBe(true);
    }
  });

  it('escapes glob characters in the SCAN pattern', () => {
    expect(keyPattern('a*b')).toBe('a\\*b:*');
    expect(keyPattern('brama')).toBe('brama:*');
  });
});
