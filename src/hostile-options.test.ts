/**
 * Options objects that throw while being read (a throwing getter, Proxy traps that throw, a
 * revoked Proxy) must give a BramaError with a stable code from every method, and leave state
 * unchanged.
 */
import { describe, expect, it } from 'vitest';
import { Brama, isBramaError } from './index.js';
import { ManualClock } from './testing/index.js';

function hostile(): Record<string, unknown>[] {
  const getter = {
    get scope(): string {
      throw new Error('getter');
    },
  };
  const trapped = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('ownKeys trap');
      },
      get() {
        throw new Error('get trap');
      },
      has() {
        throw new Error('has trap');
      },
    },
  );
  const lying = new Proxy(
    { scope: 'a' },
    {
      get() {
        throw new Error('get trap only');
      },
    },
  );
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  return [getter, trapped, lying, revoked];
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isBramaError(error) ? error.code : `raw ${String(error)}`;
  }
  return 'no error';
}

describe('options objects that throw while being read', () => {
  const calls: [string, (brama: Brama, o: Record<string, unknown>) => unknown][] = [
    ['new Brama', (_b, o) => new Brama(o)],
    ['configure(global)', (b, o) => b.configure(o)],
    ['configure(id)', (b, o) => b.configure('db', o)],
    ['register', (b, o) => b.register('other', o)],
    ['unregister', (b, o) => b.unregister('db', o)],
    ['isAvailable', (b, o) => b.isAvailable('db', o)],
    ['success', (b, o) => b.success('db', o)],
    ['failure', (b, o) => b.failure('db', o)],
    ['status', (b, o) => b.status('db', o)],
    ['list', (b, o) => b.list(o)],
    ['openCircuit', (b, o) => b.openCircuit('db', o)],
    ['closeCircuit', (b, o) => b.closeCircuit('db', o)],
    ['resetCircuit', (b, o) => b.resetCircuit('db', o)],
    ['subscribe', (b, o) => b.subscribe(() => {}, o)],
    ['wrap', (b, o) => b.wrap('db', () => 1, o)],
  ];
  for (const [name, call] of calls) {
    it(`${name}: a BramaError, state unchanged`, () => {
      for (const options of hostile()) {
        const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
        brama.register('db', { maxAttempts: 1 });
        const before = brama.list();
        expect(code(() => call(brama, options))).toMatch(/^BRAMA_INVALID_(ARGUMENT|OPTION)$/);
        expect(brama.list()).toEqual(before);
      }
    });
  }

  it('run rejects with a BramaError and does not call the function', async () => {
    for (const options of hostile()) {
      const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
      let called = false;
      const outcome = await brama
        .run('db', () => (called = true), options)
        .then(
          () => 'fulfilled',
          (error: unknown) => (isBramaError(error) ? error.code : `raw ${String(error)}`),
        );
      expect(outcome).toMatch(/^BRAMA_INVALID_(ARGUMENT|OPTION)$/);
      expect(called).toBe(false);
    }
  });

  it('a reason that throws while read as a failure option is a BramaError', () => {
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    brama.register('db');
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
    revoke();
    expect(code(() => brama.failure('db', { reason: proxy }))).toBe('BRAMA_INVALID_ARGUMENT');
    expect(brama.status('db').totalFailures).toBe(0);
  });

  it('an Error reason whose name throws is counted with a placeholder text', () => {
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    brama.register('db', { maxAttempts: 2 });
    class Loud extends Error {
      override get name(): string {
        throw new Error('name getter');
      }
    }
    brama.failure('db', { reason: new Loud('boom') });
    brama.failure('db', { reason: new Loud('boom') });
    const status = brama.status('db');
    expect(status.totalFailures).toBe(2);
    expect(status.state).toBe('open');
    expect(status.lastFailureReason).toMatch(/could not be converted/);
  });
});

describe('timers longer than Node.js honours', () => {
  it('rejects a run/wrap timeout above 2^31 - 1 ms instead of timing out after 1 ms', async () => {
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    const outcome = await brama
      .run('db', () => 'value', { timeout: 3e9 })
      .then(
        () => 'fulfilled',
        (error: unknown) => (isBramaError(error) ? error.code : `raw ${String(error)}`),
      );
    expect(outcome).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => brama.wrap('db', () => 1, { timeout: 2 ** 31 }))).toBe(
      'BRAMA_INVALID_OPTION',
    );
    await expect(brama.run('db', () => 'value', { timeout: 2 ** 31 - 1 })).resolves.toBe('value');
  });
});
