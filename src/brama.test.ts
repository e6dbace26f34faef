import { describe, expect, it } from 'vitest';
import { Brama, isBramaError, MemoryStore, type BramaEvent } from './index.js';
import { ManualClock, recordEvents } from './testing/index.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(1_000_000);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  const recorder = recordEvents(brama);
  const types = () => recorder.events.map((e) => e.type);
  return { clock, brama, recorder, types };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBramaError(error) ? error.code : `not a BramaError: ${String(error)}`;
  }
  return undefined;
}

describe('registration and the unknown state', () => {
  it('registers in unknown, returns the status, and emits registration', () => {
    const { brama, recorder } = setup();
    const status = brama.register('db', { metadata: { owner: 'team-a' } });
    expect(status).toMatchObject({
      identifier: 'db',
      scope: null,
      state: 'unknown',
      failureCount: 0,
      successRate: null,
      registeredAt: 1_000_000,
      lastStateChangeAt: 1_000_000,
      metadata: { owner: 'team-a' },
    });
    expect(Object.isFrozen(status)).toBe(true);
    expect(recorder.events).toEqual([
      {
        type: 'registration',
        timestamp: 1_000_000,
        identifier: 'db',
        scope: null,
        data: { status },
      },
    ]);
    expect(brama.isAvailable('db')).toBe(true);
  });

  it('refuses a second registration and reports on unknown connections', () => {
    const { brama } = setup();
    brama.register('db');
    expect(code(() => brama.register('db'))).toBe('BRAMA_ALREADY_REGISTERED');
    expect(code(() => brama.success('nope'))).toBe('BRAMA_NOT_FOUND');
    expect(code(() => brama.failure('nope'))).toBe('BRAMA_NOT_FOUND');
    expect(code(() => brama.status('nope'))).toBe('BRAMA_NOT_FOUND');
    expect(brama.isAvailable('nope')).toBe(false);
  });

  it('unknown → closed emits only state_change', () => {
    const { brama, recorder, types } = setup();
    brama.register('db');
    recorder.clear();
    brama.success('db');
    expect(types()).toEqual(['success', 'state_change']);
    expect(recorder.events[1]?.data).toMatchObject({
      from: 'unknown',
      to: 'closed',
      cause: 'success',
    });
  });

  it('copies and freezes metadata without touching the caller’s object', () => {
    const { brama } = setup();
    const metadata = { owner: 'a' };
    const status = brama.register('db', { metadata });
    metadata.owner = 'b';
    expect(status.metadata).toEqual({ owner: 'a' });
    expect(Object.isFrozen(status.metadata)).toBe(true);
    expect(Object.isFrozen(metadata)).toBe(false);
  });
});

describe('threshold and transitions', () => {
  it('opens after maxAttempts consecutive failures, with events in order', () => {
    const { brama, recorder, types, clock } = setup({ maxAttempts: 3, expiry: 5_000 });
    brama.register('db');
    brama.failure('db', { reason: 'timeout' });
    brama.failure('db');
    expect(brama.status('db')).toMatchObject({ state: 'closed', failureCount: 2 });
    recorder.clear();
    clock.advance(10);
    brama.failure('db', { reason: new TypeError('socket hang up') });
    expect(types()).toEqual(['failure', 'state_change', 'circuit_opened']);
    const opened = recorder.events[2] as Extract<BramaEvent, { type: 'circuit_opened' }>;
    expect(opened.data).toMatchObject({
      from: 'closed',
      to: 'open',
      cause: 'failure',
      origin: 'local',
    });
    expect(opened.data.reason).toBeInstanceOf(TypeError);
    expect(opened.data.status).toMatchObject({
      state: 'open',
      failureCount: 3,
      openedAt: 1_000_010,
      openUntil: 1_005_010,
      lastFailureReason: 'TypeError: socket hang up',
    });
    expect(brama.isAvailable('db')).toBe(false);
  });

  it('a success resets the consecutive count', () => {
    const { brama } = setup({ maxAttempts: 2 });
    brama.register('db');
    brama.failure('db');
    brama.success('db');
    brama.failure('db');
    expect(brama.status('db')).toMatchObject({ state: 'closed', failureCount: 1 });
  });

  it('half-opens lazily at expiry, emitting when first observed', () => {
    const { brama, clock, types, recorder } = setup({ maxAttempts: 1, expiry: 1_000 });
    brama.register('db');
    brama.failure('db');
    recorder.clear();
    clock.advance(999);
    expect(brama.isAvailable('db')).toBe(false);
    expect(types()).toEqual([]);
    clock.advance(1);
    expect(brama.status('db')).toMatchObject({ state: 'half_open', lastStateChangeAt: 1_001_000 });
    expect(types()).toEqual(['state_change', 'circuit_half_opened']);
    expect(recorder.events[0]?.data).toMatchObject({
      from: 'open',
      to: 'half_open',
      cause: 'expiry',
    });
  });

  it('reading status and list never consumes a half-open trial', () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 10 });
    brama.register('db');
    brama.failure('db');
    clock.advance(10);
    for (let i = 0; i < 3; i++) {
      brama.status('db');
      brama.list();
    }
    expect(brama.isAvailable('db')).toBe(true);
    expect(brama.isAvailable('db')).toBe(false);
  });

  it('half-open admits halfOpenProbes trials; probeTimeout frees a slot', () => {
    const { brama, clock } = setup({
      maxAttempts: 1,
      expiry: 100,
      halfOpenProbes: 2,
      probeTimeout: 50,
    });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    expect([brama.isAvailable('db'), brama.isAvailable('db'), brama.isAvailable('db')]).toEqual([
      true,
      true,
      false,
    ]);
    clock.advance(49);
    expect(brama.isAvailable('db')).toBe(false);
    clock.advance(1);
    expect(brama.isAvailable('db')).toBe(true);
    expect(brama.isAvailable('db')).toBe(true);
    expect(brama.isAvailable('db')).toBe(false);
  });

  it('a trial success closes; a trial failure re-opens', () => {
    const { brama, clock, types, recorder } = setup({ maxAttempts: 1, expiry: 100 });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    expect(brama.isAvailable('db')).toBe(true);
    recorder.clear();
    brama.failure('db', { reason: 'still down' });
    expect(types()).toEqual(['failure', 'state_change', 'circuit_opened']);
    expect(brama.status('db')).toMatchObject({ state: 'open', openUntil: 1_000_200 });
    clock.advance(100);
    expect(brama.isAvailable('db')).toBe(true);
    recorder.clear();
    brama.success('db');
    expect(types()).toEqual(['success', 'state_change', 'circuit_closed']);
    expect(brama.status('db')).toMatchObject({ state: 'closed', failureCount: 0 });
  });

  it('a report arriving after expiry is applied to the half-open circuit', () => {
    const { brama, clock, types, recorder } = setup({ maxAttempts: 1, expiry: 100 });
    brama.register('db');
    brama.failure('db');
    clock.advance(150);
    recorder.clear();
    brama.success('db');
    expect(types()).toEqual([
      'state_change',
      'circuit_half_opened',
      'success',
      'state_change',
      'circuit_closed',
    ]);
  });

  it('reports while open update totals and times only', () => {
    const { brama, clock, types, recorder } = setup({ maxAttempts: 1, expiry: 1_000 });
    brama.register('db');
    brama.failure('db');
    const before = brama.status('db');
    recorder.clear();
    clock.advance(10);
    brama.failure('db', { reason: 'late' });
    clock.advance(10);
    brama.success('db');
    const after = brama.status('db');
    expect(types()).toEqual(['failure', 'success']);
    expect(after).toMatchObject({
      state: 'open',
      failureCount: before.failureCount,
      openedAt: before.openedAt,
      openUntil: before.openUntil,
      totalFailures: 2,
      totalSuccesses: 1,
      lastFailureTime: 1_000_010,
      lastFailureReason: 'late',
      lastSuccessTime: 1_000_020,
    });
  });
});

describe('progressive expiry', () => {
  it('grows per consecutive opening, caps, and resets on close', () => {
    const { brama, clock } = setup({
      maxAttempts: 1,
      expiryStrategy: 'progressive',
      initialExpiry: 100,
      backoffFactor: 2,
      maxExpiry: 1_000,
    });
    brama.register('db');
    const periods: number[] = [];
    brama.failure('db');
    for (let i = 0; i < 5; i++) {
      const { openedAt, openUntil } = brama.status('db');
      periods.push((openUntil as number) - (openedAt as number));
      clock.set(openUntil as number);
      expect(brama.isAvailable('db')).toBe(true);
      brama.failure('db');
    }
    expect(periods).toEqual([100, 200, 400, 800, 1_000]);
    clock.set(brama.status('db').openUntil as number);
    brama.success('db');
    brama.failure('db');
    const { openedAt, openUntil } = brama.status('db');
    expect((openUntil as number) - (openedAt as number)).toBe(100);
  });
});

describe('manual control', () => {
  it('openCircuit opens now with a one-off expiry and always emits circuit_opened', () => {
    const { brama, clock, types, recorder } = setup({ expiry: 60_000 });
    brama.register('db');
    brama.openCircuit('db', { reason: 'maintenance', expiry: 500 });
    expect(types().slice(1)).toEqual(['state_change', 'circuit_opened']);
    expect(recorder.events[2]?.data).toMatchObject({
      reason: 'maintenance',
      cause: 'manual',
      from: 'unknown',
    });
    expect(brama.status('db').openUntil).toBe(1_000_500);
    recorder.clear();
    brama.openCircuit('db', { reason: 'again' });
    expect(types()).toEqual(['circuit_opened']);
    expect(brama.status('db').openUntil).toBe(1_060_000);
    clock.advance(60_000);
    expect(brama.isAvailable('db')).toBe(true);
  });

  it('closeCircuit closes, zeroes the count and emits circuit_closed even when closed', () => {
    const { brama, types, recorder } = setup({ maxAttempts: 3 });
    brama.register('db');
    brama.failure('db');
    brama.failure('db');
    recorder.clear();
    brama.closeCircuit('db', { reason: 'ops' });
    expect(types()).toEqual(['circuit_closed']);
    expect(brama.status('db').failureCount).toBe(0);
    brama.openCircuit('db');
    recorder.clear();
    brama.closeCircuit('db');
    expect(types()).toEqual(['state_change', 'circuit_closed']);
    expect(brama.isAvailable('db')).toBe(true);
  });

  it('resetCircuit resets count and backoff but keeps totals', () => {
    const { brama, clock, types, recorder } = setup({
      maxAttempts: 1,
      expiryStrategy: 'progressive',
      initialExpiry: 100,
    });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    brama.failure('db'); // second opening: 200 ms
    expect(brama.status('db').openUntil).toBe(1_000_300);
    recorder.clear();
    brama.resetCircuit('db', { reason: 'deploy' });
    expect(types()).toEqual(['state_change', 'circuit_reset']);
    expect(recorder.events[1]?.data).toMatchObject({
      reason: 'deploy',
      cause: 'reset',
      to: 'closed',
    });
    expect(brama.status('db')).toMatchObject({
      state: 'closed',
      failureCount: 0,
      totalFailures: 2,
    });
    brama.failure('db');
    expect(brama.status('db').openUntil).toBe(1_000_200);
  });
});

describe('configuration', () => {
  it('connections without own settings follow later global changes', () => {
    const { brama } = setup({ maxAttempts: 5 });
    brama.register('inherits');
    brama.register('own', { maxAttempts: 2 });
    brama.configure({ maxAttempts: 1, expiry: 2_000 });
    expect(brama.status('inherits')).toMatchObject({
      maxAttempts: 1,
      expiry: 2_000,
      maxExpiry: 20_000,
    });
    expect(brama.status('own')).toMatchObject({ maxAttempts: 2, expiry: 2_000 });
    brama.failure('inherits');
    expect(brama.status('inherits').state).toBe('open');
  });

  it('per-connection configure patches only the given keys; undefined restores inheritance', () => {
    const { brama } = setup();
    brama.register('db', { maxAttempts: 3, expiry: 500, metadata: { a: 1 } });
    brama.configure('db', { expiry: 700 });
    expect(brama.status('db')).toMatchObject({
      maxAttempts: 3,
      expiry: 700,
      initialExpiry: 700,
      metadata: { a: 1 },
    });
    brama.configure('db', { maxAttempts: undefined, metadata: { b: 2 } });
    expect(brama.status('db')).toMatchObject({ maxAttempts: 5, expiry: 700, metadata: { b: 2 } });
  });

  it('per-connection configure requires a registered connection and validates atomically', () => {
    const { brama } = setup();
    brama.register('db', { maxAttempts: 3 });
    expect(code(() => brama.configure('nope', { maxAttempts: 2 }))).toBe('BRAMA_NOT_FOUND');
    expect(code(() => brama.configure('db', { maxAttempts: 2, expiry: -1 }))).toBe(
      'BRAMA_INVALID_OPTION',
    );
    expect(brama.status('db').maxAttempts).toBe(3);
  });
});

describe('scopes', () => {
  it('isolates scopes and never collides keys', () => {
    const { brama } = setup({ maxAttempts: 1 });
    brama.register('a', { scope: 'b' });
    brama.register('b:a');
    brama.register('a');
    brama.register('a', { scope: 'b:' });
    brama.register('b', { scope: 'a' });
    expect(brama.list()).toHaveLength(5);
    brama.failure('a', { scope: 'b' });
    expect(brama.isAvailable('a', { scope: 'b' })).toBe(false);
    expect(brama.isAvailable('b:a')).toBe(true);
    expect(brama.isAvailable('a')).toBe(true);
    expect(brama.isAvailable('a', { scope: 'b:' })).toBe(true);
    expect(brama.isAvailable('b', { scope: 'a' })).toBe(true);
    expect(brama.list({ scope: 'b' }).map((s) => s.identifier)).toEqual(['a']);
    expect(
      brama
        .list({ scope: null })
        .map((s) => s.identifier)
        .sort(),
    ).toEqual(['a', 'b:a']);
    expect(brama.unregister('a', { scope: 'b' })).toBe(true);
    expect(brama.unregister('a', { scope: 'b' })).toBe(false);
    expect(brama.list()).toHaveLength(4);
  });
});

describe('status fields', () => {
  it('computes successRate and timeSinceLastStateChange from the clock', () => {
    const { brama, clock } = setup({ maxAttempts: 10 });
    brama.register('db');
    clock.advance(5);
    brama.success('db');
    brama.success('db');
    brama.success('db');
    clock.advance(20);
    brama.failure('db', { reason: 'boom' });
    clock.advance(100);
    expect(brama.status('db')).toMatchObject({
      successRate: 0.75,
      totalSuccesses: 3,
      totalFailures: 1,
      lastSuccessTime: 1_000_005,
      lastFailureTime: 1_000_025,
      lastFailureReason: 'boom',
      lastStateChangeAt: 1_000_005,
      timeSinceLastStateChange: 120,
      openedAt: null,
      openUntil: null,
    });
  });
});

describe('cleanup', () => {
  it('removes inactive connections, keeps active ones, and emits removal and cleanup events', () => {
    const { brama, clock, recorder } = setup({ inactiveThreshold: 1_000 });
    brama.register('idle');
    brama.register('busy');
    brama.register('configured');
    clock.advance(600);
    brama.success('busy');
    brama.configure('configured', { maxAttempts: 2 });
    brama.status('idle'); // a read is not activity
    brama.isAvailable('idle');
    clock.advance(400);
    recorder.clear();
    expect(brama.cleanup()).toBe(1);
    expect(recorder.events.map((e) => [e.type, e.identifier])).toEqual([
      ['connection_removed', 'idle'],
      ['cleanup', null],
    ]);
    expect(recorder.events[1]?.data).toEqual({ removed: 1 });
    expect(
      brama
        .list()
        .map((s) => s.identifier)
        .sort(),
    ).toEqual(['busy', 'configured']);
  });

  it('the sweep half-opens expired circuits so events fire without traffic', () => {
    const { brama, clock, types, recorder } = setup({ maxAttempts: 1, expiry: 100 });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    recorder.clear();
    brama.cleanup();
    expect(types()).toEqual(['state_change', 'circuit_half_opened', 'cleanup']);
  });

  it('the sweep timer is unref’d, rescheduled by configure and stopped by close', async () => {
    const brama = new Brama({ cleanupInterval: 10 });
    const sweeper = (brama as unknown as { sweeper: { timer: NodeJS.Timeout | null } }).sweeper;
    expect(sweeper.timer?.hasRef()).toBe(false);
    brama.configure({ cleanupInterval: 0 });
    expect(sweeper.timer).toBeNull();
    brama.configure({ cleanupInterval: 50 });
    expect(sweeper.timer?.hasRef()).toBe(false);
    await brama.close();
    expect(sweeper.timer).toBeNull();
  });
});

describe('events', () => {
  it('filters by type, identifier, scope and predicate (ANDed)', () => {
    const { brama } = setup({ maxAttempts: 1 });
    const got: string[] = [];
    brama.subscribe((e) => got.push(`${e.type}:${e.identifier}`), {
      events: ['failure', 'circuit_opened'],
      scope: 'pay',
    });
    const byId: string[] = [];
    brama.subscribe((e) => byId.push(e.type), {
      identifier: 'db',
      filter: (e) => e.type !== 'registration',
    });
    brama.register('db', { scope: 'pay' });
    brama.register('db');
    brama.failure('db', { scope: 'pay' });
    brama.failure('db');
    expect(got).toEqual(['failure:db', 'circuit_opened:db']);
    expect(byId).toEqual([
      'failure',
      'state_change',
      'circuit_opened',
      'failure',
      'state_change',
      'circuit_opened',
    ]);
  });

  it('isolates throwing listeners and reports them to onListenerError', () => {
    const errors: unknown[] = [];
    const { brama } = setup({ onListenerError: (error) => errors.push(error) });
    const seen: string[] = [];
    brama.subscribe(() => {
      throw new Error('listener bug');
    });
    brama.subscribe((e) => seen.push(e.type));
    brama.register('db');
    expect(() => brama.failure('db')).not.toThrow();
    expect(seen).toEqual(['registration', 'failure', 'state_change']);
    expect(errors).toHaveLength(3);
  });

  it('emits a process warning by default when a listener throws', async () => {
    const brama = new Brama({ cleanupInterval: 0 });
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    brama.subscribe(() => {
      throw new Error('listener bug');
    });
    brama.register('db');
    const w = await warning;
    expect(w.name).toBe('BramaListenerWarning');
    expect(w.message).toContain('listener bug');
  });

  it('delivers events raised inside listeners after the current one, in order', () => {
    const { brama } = setup({ maxAttempts: 1 });
    brama.register('a');
    brama.register('b');
    const order: string[] = [];
    brama.subscribe((e) => {
      order.push(`${e.type}:${e.identifier}`);
      if (e.type === 'circuit_opened' && e.identifier === 'a') brama.openCircuit('b');
    });
    brama.failure('a');
    expect(order).toEqual([
      'failure:a',
      'state_change:a',
      'circuit_opened:a',
      'state_change:b',
      'circuit_opened:b',
    ]);
  });

  it('unsubscribe stops delivery and is idempotent', () => {
    const { brama } = setup();
    const seen: string[] = [];
    const sub = brama.subscribe((e) => seen.push(e.type));
    brama.register('a');
    sub.unsubscribe();
    sub.unsubscribe();
    brama.register('b');
    expect(seen).toEqual(['registration']);
  });

  it('unregister emits connection_unregistered with the last status', () => {
    const { brama, recorder } = setup();
    brama.register('db');
    recorder.clear();
    expect(brama.unregister('db')).toBe(true);
    expect(recorder.events).toMatchObject([
      { type: 'connection_unregistered', data: { status: { identifier: 'db' } } },
    ]);
  });
});

describe('close', () => {
  it('is idempotent and makes every later call throw BRAMA_CLOSED', async () => {
    const { brama } = setup();
    brama.register('db');
    const first = brama.close();
    expect(brama.close()).toBe(first);
    await first;
    expect(code(() => brama.isAvailable('db'))).toBe('BRAMA_CLOSED');
    expect(code(() => brama.register('x'))).toBe('BRAMA_CLOSED');
  });
});

describe('stores', () => {
  it('a MemoryStore belongs to one registry', () => {
    const store = new MemoryStore();
    new Brama({ store, cleanupInterval: 0 });
    expect(code(() => new Brama({ store, cleanupInterval: 0 }))).toBe('BRAMA_INVALID_OPTION');
  });
});
