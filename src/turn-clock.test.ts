import { describe, expect, it, vi } from 'vitest';
import { Brama } from './brama.js';
import { systemClock, type Clock } from './core/clock.js';
import { TurnClock } from './turn-clock.js';

/** A clock that counts its reads, and an end of turn the test triggers. */
function setup(coarse = true) {
  let time = 100;
  const reads = vi.fn(() => time);
  const clock: Clock = { now: reads };
  const ends: (() => void)[] = [];
  const turn = new TurnClock(clock, coarse, (callback) => ends.push(callback));
  const endTurn = (): void => ends.splice(0).forEach((end) => end());
  const advance = (ms: number): void => {
    time += ms;
  };
  return { turn, reads, endTurn, advance, ends };
}

describe('TurnClock', () => {
  it('recent() reads the clock once per turn', () => {
    const { turn, reads, endTurn, advance, ends } = setup();
    expect(turn.recent()).toBe(100);
    advance(5);
    expect(turn.recent()).toBe(100);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(ends).toHaveLength(1); // one end-of-turn hook per turn, not per read
    endTurn();
    expect(turn.recent()).toBe(105);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('now() is exact, and a later recent() in the same turn is not earlier than it', () => {
    const { turn, reads, advance } = setup();
    turn.recent();
    advance(3);
    expect(turn.now()).toBe(103);
    advance(3);
    expect(turn.recent()).toBe(103);
    expect(turn.now()).toBe(106);
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it('reads every time when it may not reuse a reading (an injected clock)', () => {
    const { turn, reads, advance, ends } = setup(false);
    turn.recent();
    advance(1);
    expect(turn.recent()).toBe(101);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(ends).toHaveLength(0);
  });

  it('reuses readings only of the system clock by default', () => {
    const now = vi.fn(() => 7);
    const injected = new TurnClock({ now });
    injected.recent();
    injected.recent();
    expect(now).toHaveBeenCalledTimes(2);
    const spy = vi.spyOn(Date, 'now');
    try {
      const turn = new TurnClock(systemClock);
      turn.recent();
      turn.recent();
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('the default end of turn comes after the current event-loop turn', async () => {
    const turn = new TurnClock(systemClock);
    const spy = vi.spyOn(Date, 'now');
    try {
      turn.recent();
      await Promise.resolve(); // microtasks are the same turn
      turn.recent();
      expect(spy).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      turn.recent();
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('successes on a closed circuit (system clock)', () => {
  it('read the clock at most once per turn, and lastSuccessTime lies within the turn', async () => {
    const brama = new Brama({ cleanupInterval: 0 });
    brama.register('db');
    brama.success('db'); // unknown → closed: a transition, timed exactly
    await new Promise((resolve) => setImmediate(resolve));
    const before = Date.now();
    const spy = vi.spyOn(Date, 'now');
    try {
      for (let i = 0; i < 100; i++) await brama.run('db', () => Promise.resolve(i));
      for (let i = 0; i < 100; i++) brama.success('db');
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    const status = brama.status('db');
    expect(status.totalSuccesses).toBe(201);
    expect(status.lastSuccessTime).toBeGreaterThanOrEqual(before);
    expect(status.lastSuccessTime).toBeLessThanOrEqual(Date.now());
    await brama.close();
  });

  it('are timed exactly when a success event will show the time', async () => {
    const brama = new Brama({ cleanupInterval: 0 });
    brama.register('db');
    brama.success('db');
    const stamps: (number | null)[] = [];
    brama.subscribe((event) => stamps.push(event.data.status.lastSuccessTime), {
      events: ['success'],
    });
    let time = 5_000;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => time);
    try {
      brama.success('db');
      time = 5_007;
      brama.success('db');
      expect(stamps).toEqual([5_000, 5_007]);
    } finally {
      spy.mockRestore();
    }
    await brama.close();
  });
});
