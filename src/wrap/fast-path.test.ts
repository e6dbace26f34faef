/**
 * Calls on a closed circuit take a shorter path (a wrapped function keeps its record and
 * callbacks; `run` reuses its latest callbacks). These check that it behaves like the general
 * path in every case it meets.
 */
import { describe, expect, it } from 'vitest';
import { Brama, CircuitOpenError, isBramaError } from '../index.js';
import { ManualClock, recordEvents } from '../testing/index.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(0);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  return { clock, brama };
}

describe('the steady-state path of wrapped functions and run', () => {
  it('counts sync results, thenables, sync throws and rejections like the general path', async () => {
    const { brama } = setup({ maxAttempts: 100 });
    const thenable = { then: (resolve: (v: number) => void) => resolve(7) };
    const boom = new Error('boom');
    const wrapped = brama.wrap('w', (kind: string): unknown => {
      if (kind === 'sync') return 1;
      if (kind === 'thenable') return thenable;
      if (kind === 'throw') throw boom;
      return kind === 'reject' ? Promise.reject(boom) : Promise.resolve(2);
    });
    const kinds = ['promise', 'promise', 'sync', 'thenable', 'throw', 'reject', 'promise'];
    const outcomes = [];
    for (const kind of kinds) outcomes.push(await wrapped(kind).catch((e: unknown) => e));
    expect(outcomes).toEqual([2, 2, 1, 7, boom, boom, 2]);
    expect(brama.status('w')).toMatchObject({
      totalSuccesses: 5,
      totalFailures: 2,
      failureCount: 0,
    });

    const runs = [];
    for (const kind of kinds) {
      runs.push(
        await brama
          .run('r', () => (kind === 'sync' ? 1 : kind === 'reject' ? Promise.reject(boom) : 2))
          .catch((e: unknown) => e),
      );
    }
    expect(runs).toEqual([2, 2, 1, 2, 2, boom, 2]);
    expect(brama.status('r')).toMatchObject({ totalSuccesses: 6, totalFailures: 1 });
  });

  it('a wrapped function follows its connection through unregister and registration', async () => {
    const { brama } = setup();
    const wrapped = brama.wrap('w', () => Promise.resolve(1), { maxAttempts: 3 });
    await wrapped();
    await wrapped();
    brama.unregister('w');
    await wrapped(); // registers it again, with the wrapper's options
    expect(brama.status('w')).toMatchObject({ totalSuccesses: 1, maxAttempts: 3 });
    brama.unregister('w');
    brama.register('w', { maxAttempts: 1 });
    await expect(wrapped()).resolves.toBe(1);
    expect(brama.status('w')).toMatchObject({ totalSuccesses: 1, maxAttempts: 1 });
  });

  it('refuses as soon as the circuit leaves closed, and rejects after close()', async () => {
    const { brama } = setup({ maxAttempts: 1 });
    const wrapped = brama.wrap('w', () => Promise.resolve(1));
    await wrapped();
    await brama.run('r', () => 1);
    brama.openCircuit('w');
    brama.openCircuit('r');
    await expect(wrapped()).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(brama.run('r', () => 1)).rejects.toBeInstanceOf(CircuitOpenError);
    brama.closeCircuit('w');
    brama.closeCircuit('r');
    await expect(wrapped()).resolves.toBe(1);
    await brama.close();
    const closed = await wrapped().catch((e: unknown) => e);
    expect(isBramaError(closed, 'BRAMA_CLOSED')).toBe(true);
    const closedRun = await brama.run('r', () => 1).catch((e: unknown) => e);
    expect(isBramaError(closedRun, 'BRAMA_CLOSED')).toBe(true);
  });

  it('run on alternating connections and options counts each call where it belongs', async () => {
    const { brama } = setup();
    const ignore = { classify: () => 'ignore' as const };
    for (let i = 0; i < 3; i++) {
      await brama.run('a', () => 1);
      await brama.run('b', () => 1);
      await brama.run('a', () => 1, ignore);
      await brama.run('a', () => 1, { scope: 's' });
    }
    expect(brama.status('a').totalSuccesses).toBe(3);
    expect(brama.status('b').totalSuccesses).toBe(3);
    expect(brama.status('a', { scope: 's' }).totalSuccesses).toBe(3);
    const other = setup().brama; // its own callbacks: nothing leaks between registries
    await other.run('a', () => 1);
    await brama.run('a', () => 1);
    expect(other.status('a').totalSuccesses).toBe(1);
    expect(brama.status('a').totalSuccesses).toBe(4);
  });

  it('a success event carries the status after the call, on the steady-state path too', async () => {
    const { brama, clock } = setup();
    const wrapped = brama.wrap('w', () => Promise.resolve(1));
    await wrapped();
    const recorder = recordEvents(brama, { events: ['success'] });
    clock.advance(5);
    await wrapped();
    await brama.run('w', () => 1);
    expect(recorder.events.map((e) => [e.data.status.totalSuccesses, e.timestamp])).toEqual([
      [2, 5],
      [3, 5],
    ]);
  });
});
