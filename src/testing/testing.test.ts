import { describe, expect, it } from 'vitest';
import { Brama, isBramaError } from '../index.js';
import {
  addFailures,
  expectState,
  ManualClock,
  recordEvents,
  setState,
  simulateFailures,
  simulateRecovery,
  StateAssertionError,
} from './index.js';

function setup() {
  const clock = new ManualClock(100);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 3, expiry: 1_000 });
  brama.register('db');
  brama.register('db', { scope: 'eu' });
  return { clock, brama };
}

describe('ManualClock', () => {
  it('starts where told, advances and sets', () => {
    const clock = new ManualClock();
    expect(clock.now()).toBe(0);
    expect(clock.advance(5)).toBe(5);
    expect(clock.set(2)).toBe(2);
    expect(new ManualClock(42).now()).toBe(42);
  });

  it('fires scheduled timers in time order when time reaches them, and cancels', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.schedule(() => fired.push('b@20'), 20);
    clock.schedule(() => fired.push(`a@${clock.now()}`), 10);
    const cancel = clock.schedule(() => fired.push('never'), 15);
    cancel();
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@20']);
    expect(clock.now()).toBe(39);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('setState', () => {
  it('forces each state with the usual events', () => {
    const { brama } = setup();
    const rec = recordEvents(brama);
    setState(brama, 'db', 'open');
    expect(brama.status('db').state).toBe('open');
    setState(brama, 'db', 'half_open');
    expect(brama.isAvailable('db')).toBe(true);
    setState(brama, 'db', 'closed', { scope: 'eu' });
    expect(brama.status('db', { scope: 'eu' }).state).toBe('closed');
    expect(rec.events.filter((e) => e.type !== 'state_change').map((e) => e.type)).toEqual([
      'circuit_opened',
      'circuit_half_opened',
    ]);
    expect(rec.events.filter((e) => e.type === 'state_change').map((e) => e.data.cause)).toEqual([
      'forced',
      'forced',
      'forced',
    ]);
  });
});

describe('addFailures / simulateFailures', () => {
  it('reports count failures with the reason, in the right scope', () => {
    const { brama } = setup();
    addFailures(brama, 'db', 2, { reason: 'timeout' });
    expect(brama.status('db')).toMatchObject({ failureCount: 2, lastFailureReason: 'timeout' });
    simulateFailures(brama, 'db', 3, { scope: 'eu' });
    expect(brama.status('db', { scope: 'eu' }).state).toBe('open');
    expect(brama.status('db').state).toBe('closed');
  });

  it('throws BRAMA_NOT_FOUND without reporting anything for unknown connections', () => {
    const { brama } = setup();
    expect(() => addFailures(brama, 'nope', 1)).toThrow(/not registered/);
  });
});

describe('simulateRecovery', () => {
  it('takes an open circuit through half-open to closed', () => {
    const { brama } = setup();
    addFailures(brama, 'db', 3);
    const rec = recordEvents(brama);
    simulateRecovery(brama, 'db');
    expect(brama.status('db').state).toBe('closed');
    expect(rec.events.map((e) => e.type)).toEqual([
      'state_change',
      'circuit_half_opened',
      'success',
      'state_change',
      'circuit_closed',
    ]);
  });

  it('leaves a closed circuit alone', () => {
    const { brama } = setup();
    brama.success('db');
    simulateRecovery(brama, 'db');
    expect(brama.status('db').totalSuccesses).toBe(1);
  });
});

describe('recordEvents', () => {
  it('records filtered events, clears in place and stops', () => {
    const { brama } = setup();
    const rec = recordEvents(brama, { events: ['failure'] });
    const array = rec.events;
    addFailures(brama, 'db', 2);
    expect(rec.events).toHaveLength(2);
    rec.clear();
    expect(array).toHaveLength(0);
    rec.stop();
    addFailures(brama, 'db', 1);
    expect(rec.events).toHaveLength(0);
  });

  it('waitFor resolves with the earliest recorded event, or the next one', async () => {
    const { brama } = setup();
    const rec = recordEvents(brama);
    addFailures(brama, 'db', 1, { reason: 'first' });
    addFailures(brama, 'db', 1, { reason: 'second' });
    await expect(rec.waitFor('failure')).resolves.toMatchObject({ data: { reason: 'first' } });
    const next = rec.waitFor('circuit_opened', { timeoutMs: 1_000 });
    addFailures(brama, 'db', 1);
    await expect(next).resolves.toMatchObject({ type: 'circuit_opened', identifier: 'db' });
  });

  it('waitFor rejects with BRAMA_TIMEOUT', async () => {
    const { brama } = setup();
    const error = await recordEvents(brama)
      .waitFor('circuit_reset', { timeoutMs: 5 })
      .catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_TIMEOUT')).toBe(true);
  });
});

describe('expectState', () => {
  it('passes silently on a match and throws a readable error otherwise', () => {
    const { brama } = setup();
    expectState(brama, 'db', 'unknown');
    addFailures(brama, 'db', 3);
    expectState(brama, 'db', 'open');
    let error: unknown;
    try {
      expectState(brama, 'db', 'closed');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateAssertionError);
    expect(error).toMatchObject({ actual: 'open', expected: 'closed' });
    expect((error as Error).message).toBe(
      'Expected connection "db" to be closed, but it is open (failureCount 3/3, openUntil 1100)',
    );
  });
});
