import { describe, expect, it } from 'vitest';
import { resolveSettings } from './settings.js';
import { initialCircuit, type Circuit } from './state.js';
import {
  admit,
  closeManually,
  force,
  onFailure,
  onIgnored,
  onSuccess,
  openManually,
  retryAfter,
  settle,
} from './transitions.js';

const s = resolveSettings(
  {},
  { maxAttempts: 3, expiry: 1_000, halfOpenProbes: 2, probeTimeout: 500 },
);

function failTimes(c: Circuit, n: number, now: number): Circuit {
  for (let i = 0; i < n; i++) c = onFailure(c, s, now);
  return c;
}

describe('pure transitions', () => {
  it('never mutate their input and return the same object when nothing changes', () => {
    const closed = onSuccess(initialCircuit(0), s, 1);
    const frozen = Object.freeze({ ...closed });
    expect(onSuccess(frozen, s, 2)).toBe(frozen);
    expect(admit(frozen, s, 2)).toBe(frozen);
    expect(settle(frozen, 2)).toBe(frozen);
    expect(onIgnored(frozen)).toBe(frozen);
    const failed = onFailure(frozen, s, 3);
    expect(failed).not.toBe(frozen);
    expect(frozen.failureCount).toBe(0);
  });

  it('unknown → closed on the first outcome, open straight away when maxAttempts is 1', () => {
    expect(onSuccess(initialCircuit(0), s, 5)).toMatchObject({ state: 'closed', changedAt: 5 });
    expect(onFailure(initialCircuit(0), s, 5)).toMatchObject({ state: 'closed', failureCount: 1 });
    const one = resolveSettings({}, { maxAttempts: 1 });
    expect(onFailure(initialCircuit(0), one, 5)).toMatchObject({
      state: 'open',
      openUntil: 5 + 60_000,
    });
  });

  it('opens on exactly maxAttempts consecutive failures; a success in between resets the count', () => {
    let c = failTimes(initialCircuit(0), 2, 10);
    expect(c).toMatchObject({ state: 'closed', failureCount: 2 });
    c = onSuccess(c, s, 11);
    expect(c.failureCount).toBe(0);
    c = failTimes(c, 2, 12);
    expect(c.state).toBe('closed');
    c = onFailure(c, s, 13);
    expect(c).toMatchObject({
      state: 'open',
      failureCount: 3,
      openedAt: 13,
      openUntil: 1_013,
      openings: 1,
    });
  });

  it('reports while open change nothing in the circuit', () => {
    const open = failTimes(initialCircuit(0), 3, 0);
    expect(onFailure(open, s, 10)).toBe(open);
    expect(onSuccess(open, s, 10)).toBe(open);
  });

  it('settles open → half_open exactly when the period elapses, dated at the elapse', () => {
    const open = failTimes(initialCircuit(0), 3, 0);
    expect(settle(open, 999)).toBe(open);
    const half = settle(open, 5_000);
    expect(half).toMatchObject({
      state: 'half_open',
      openUntil: null,
      changedAt: 1_000,
      openedAt: 0,
    });
    expect(half.generation).toBe(open.generation + 1);
  });

  it('admits at most halfOpenProbes trials; a slot frees after probeTimeout', () => {
    let c = settle(failTimes(initialCircuit(0), 3, 0), 1_000);
    const a = admit(c, s, 1_000);
    expect(a).not.toBeNull();
    c = a as Circuit;
    c = admit(c, s, 1_100) as Circuit;
    expect(c.trials).toEqual([1_000, 1_100]);
    expect(admit(c, s, 1_499)).toBeNull();
    expect(retryAfter(c, s, 1_499)).toBe(1);
    const later = admit(c, s, 1_500);
    expect(later?.trials).toEqual([1_100, 1_500]);
  });

  it('an ignored result frees the oldest trial slot', () => {
    let c = settle(failTimes(initialCircuit(0), 3, 0), 1_000);
    c = admit(c, s, 1_000) as Circuit;
    c = admit(c, s, 1_001) as Circuit;
    expect(onIgnored(c).trials).toEqual([1_001]);
  });

  it('half_open: a success closes and resets backoff; a failure re-opens as the next opening', () => {
    const half = settle(failTimes(initialCircuit(0), 3, 0), 1_000);
    expect(onSuccess(half, s, 1_200)).toMatchObject({
      state: 'closed',
      failureCount: 0,
      openings: 0,
      changedAt: 1_200,
    });
    expect(onFailure(half, s, 1_200)).toMatchObject({
      state: 'open',
      openings: 2,
      openedAt: 1_200,
      openUntil: 2_200,
      failureCount: 4,
    });
  });

  it('retryAfter counts down the open period', () => {
    const open = failTimes(initialCircuit(0), 3, 0);
    expect(retryAfter(open, s, 250)).toBe(750);
    expect(retryAfter(onSuccess(initialCircuit(0), s, 0), s, 0)).toBe(0);
  });

  it('manual open uses the given expiry once; reopening restarts without a new consecutive opening', () => {
    const c = openManually(onSuccess(initialCircuit(0), s, 0), s, 10, 50);
    expect(c).toMatchObject({ state: 'open', openUntil: 60, openings: 1, changedAt: 10 });
    const again = openManually(c, s, 20, null);
    expect(again).toMatchObject({ openUntil: 1_020, openings: 1, changedAt: 10 });
    expect(again.generation).toBe(c.generation + 1);
  });

  it('manual close zeroes the count and backoff, keeping changedAt if already closed', () => {
    const closed = failTimes(onSuccess(initialCircuit(0), s, 0), 2, 5);
    expect(closeManually(closed, 9)).toMatchObject({
      state: 'closed',
      failureCount: 0,
      changedAt: 0,
    });
    const open = failTimes(closed, 1, 6);
    expect(closeManually(open, 9)).toMatchObject({
      state: 'closed',
      openings: 0,
      openUntil: null,
      changedAt: 9,
    });
  });

  it('force moves to any state', () => {
    const c = onSuccess(initialCircuit(0), s, 0);
    expect(force(c, s, 'half_open', 7)).toMatchObject({
      state: 'half_open',
      openedAt: 7,
      trials: [],
    });
    expect(force(c, s, 'open', 7)).toMatchObject({ state: 'open', openUntil: 1_007 });
    expect(force(force(c, s, 'open', 7), s, 'closed', 8)).toMatchObject({ state: 'closed' });
  });
});
