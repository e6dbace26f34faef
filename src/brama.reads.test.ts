/** Side-effect-free reads: `wouldAdmit` (a health check's question) and not-found messages. */
import { describe, expect, it } from 'vitest';
import { Brama, isBramaError } from './index.js';
import { ManualClock, recordEvents } from './testing/index.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(1_000_000);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  return { clock, brama };
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isBramaError(error, 'BRAMA_NOT_FOUND')) return error.message;
    throw error;
  }
  throw new Error('did not throw');
}

describe('wouldAdmit', () => {
  it('answers like isAvailable in every state', () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 100 });
    expect(brama.wouldAdmit('db')).toBe(false); // unregistered
    brama.register('db');
    expect(brama.wouldAdmit('db')).toBe(true); // unknown
    brama.success('db');
    expect(brama.wouldAdmit('db')).toBe(true); // closed
    brama.failure('db');
    expect(brama.wouldAdmit('db')).toBe(false); // open
    clock.advance(100);
    expect(brama.wouldAdmit('db')).toBe(true); // half-open, a slot free
    expect(brama.isAvailable('db')).toBe(true); // the slot is taken by a real call
    expect(brama.wouldAdmit('db')).toBe(false); // half-open, every slot taken
    expect(brama.isAvailable('db')).toBe(false);
  });

  it('never takes a half-open trial slot, however often it is asked', () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 100, halfOpenProbes: 2 });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    for (let i = 0; i < 10; i++) expect(brama.wouldAdmit('db')).toBe(true);
    expect([brama.isAvailable('db'), brama.isAvailable('db'), brama.isAvailable('db')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('applies the lazy half-open change once (a read effect, like status), nothing else', () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 100 });
    brama.register('db', { scope: 'pg' });
    brama.failure('db', { scope: 'pg' });
    const recorder = recordEvents(brama);
    clock.advance(100);
    brama.wouldAdmit('db', { scope: 'pg' });
    brama.wouldAdmit('db', { scope: 'pg' });
    expect(recorder.events.map((e) => e.type)).toEqual(['state_change', 'circuit_half_opened']);
    expect(brama.status('db', { scope: 'pg' }).state).toBe('half_open');
  });

  it('validates its arguments like every method', () => {
    const { brama } = setup();
    expect(() => brama.wouldAdmit('')).toThrow(/identifier/);
    expect(() => brama.wouldAdmit('db', { scope: 1 as never })).toThrow(/scope/);
    expect(() => brama.wouldAdmit('db', { scpoe: 'x' } as never)).toThrow(/did you mean "scope"/);
  });
});

describe('BRAMA_NOT_FOUND names where the identifier is registered', () => {
  it('a scoped connection asked for without its scope', () => {
    const { brama } = setup();
    brama.register('z', { scope: 'billing' });
    expect(messageOf(() => brama.status('z'))).toBe(
      'Connection "z" is not registered; "z" is registered in scope "billing"',
    );
    brama.register('z', { scope: 'search' });
    expect(messageOf(() => brama.success('z'))).toBe(
      'Connection "z" is not registered; "z" is registered in scopes "billing" and "search"',
    );
  });

  it('lists at most three scopes, then how many more', () => {
    const { brama } = setup();
    for (const scope of ['a', 'b', 'c', 'd', 'e']) brama.register('z', { scope });
    expect(messageOf(() => brama.failure('z'))).toBe(
      'Connection "z" is not registered; "z" is registered in scopes "a", "b", "c" and 2 more',
    );
  });

  it('an unscoped connection asked for with a scope, and other scopes', () => {
    const { brama } = setup();
    brama.register('z');
    brama.register('z', { scope: 'ops' });
    expect(messageOf(() => brama.openCircuit('z', { scope: 'billing' }))).toBe(
      'Connection "z" in scope "billing" is not registered; "z" is registered without a scope and in scope "ops"',
    );
  });

  it('says nothing more when the identifier is nowhere', () => {
    const { brama } = setup();
    brama.register('y', { scope: 'billing' });
    expect(messageOf(() => brama.status('z'))).toBe('Connection "z" is not registered');
    expect(messageOf(() => brama.configure('z', { maxAttempts: 2 }))).toBe(
      'Connection "z" is not registered',
    );
  });
});
