import { describe, expect, it } from 'vitest';
import { Brama, type BramaEvent } from '../index.js';
import { ManualClock } from '../testing/index.js';

// Async listeners are the point of these tests: a listener's type returns void, and a function
// returning a promise is assignable to it, which this lint rule flags.
/* eslint-disable @typescript-eslint/no-misused-promises */

function setup(onListenerError: (error: unknown, event: BramaEvent) => void) {
  return new Brama({ clock: new ManualClock(1_000), cleanupInterval: 0, onListenerError });
}

/** Lets pending promise reactions run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('listeners that fail asynchronously', () => {
  it('reports a rejected promise returned by an async listener to onListenerError', async () => {
    const reported: [unknown, string][] = [];
    const brama = setup((error, event) => reported.push([error, event.type]));
    const bug = new Error('webhook down');
    brama.subscribe(
      async () => {
        await Promise.resolve();
        throw bug;
      },
      { events: ['circuit_opened'] },
    );
    brama.register('db', { maxAttempts: 1 });
    expect(() => brama.failure('db')).not.toThrow();
    expect(brama.status('db').state).toBe('open');
    await settle();
    expect(reported).toEqual([[bug, 'circuit_opened']]);
  });

  it('reports a thenable whose then() throws, and ignores fulfilled promises', async () => {
    const reported: unknown[] = [];
    const brama = setup((error) => reported.push(error));
    const bug = new Error('then exploded');
    brama.subscribe(() => ({
      then() {
        throw bug;
      },
    }));
    brama.subscribe(() => Promise.resolve());
    brama.register('db');
    await settle();
    expect(reported).toEqual([bug]);
  });

  it('a rejecting listener under the default handler warns instead of crashing', async () => {
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    brama.subscribe(() => Promise.reject(new Error('async listener bug')));
    brama.register('db');
    const w = await warning;
    expect(w.name).toBe('BramaListenerWarning');
    expect(w.message).toContain('async listener bug');
  });
});
