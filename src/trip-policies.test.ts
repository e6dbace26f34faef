/**
 * Trip policies and recovery (rate windows, slow calls, result-driven opening, success
 * threshold, ramp-up, shadow mode), rule by rule with hand-computed numbers, on the memory
 * store and a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import {
  Brama,
  isBramaError,
  parseRetryAfter,
  type BramaEvent,
  type BramaOptions,
} from './index.js';
import { ManualClock, setState } from './testing/index.js';

function setup(options: BramaOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  const events: BramaEvent[] = [];
  brama.subscribe((e) => void events.push(e));
  const opened = () => events.filter((e) => e.type === 'circuit_opened');
  return { clock, brama, events, opened };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBramaError(error) ? error.code : `raw ${String(error)}`;
  }
  return undefined;
}

const rate = { tripPolicy: 'rate', minimumCalls: 10, failureRateThreshold: 0.5 } as const;

describe("tripPolicy 'rate' with a count window", () => {
  it('opens when the share of failures reaches the threshold once minimumCalls are in', () => {
    const { brama, opened } = setup(rate);
    brama.register('db');
    // 9 outcomes, 5 failures (56 %): below minimumCalls, no trip.
    for (let i = 0; i < 4; i++) brama.success('db');
    for (let i = 0; i < 5; i++) brama.failure('db', { reason: `e${i}` });
    expect(brama.status('db')).toMatchObject({
      state: 'closed',
      windowCalls: 9,
      failureRate: null,
      slowCallRate: null,
    });
    brama.success('db'); // 10 outcomes, 5 failures: 50 % >= 50 %
    const status = brama.status('db');
    expect(status).toMatchObject({ state: 'open', windowCalls: 10, failureRate: 0.5 });
    expect(opened()).toHaveLength(1);
    expect(opened()[0]!.data).toMatchObject({
      cause: 'success',
      trip: { rule: 'failure_rate', rate: 0.5, threshold: 0.5, calls: 10 },
    });
  });

  it('counts only the last N outcomes (older ones leave the window)', () => {
    const { brama } = setup({
      ...rate,
      window: { calls: 4 },
      minimumCalls: 4,
      failureRateThreshold: 0.75,
    });
    brama.register('db');
    for (const ok of [false, false, true, true, true]) {
      if (ok) brama.success('db');
      else brama.failure('db');
    }
    // The window holds F S S S? No: the last 4 are F S S S (the first F left): 25 %.
    expect(brama.status('db')).toMatchObject({
      state: 'closed',
      windowCalls: 4,
      failureRate: 0.25,
    });
    brama.failure('db'); // S S S F: 25 %
    brama.failure('db'); // S S F F: 50 %
    expect(brama.status('db')).toMatchObject({ state: 'closed', failureRate: 0.5 });
    brama.failure('db'); // S F F F: 75 % >= 75 %
    expect(brama.status('db').state).toBe('open');
  });

  it('ignores the consecutive count (a long run below the rate does not trip)', () => {
    const { brama } = setup({ ...rate, maxAttempts: 2, failureRateThreshold: 0.9 });
    brama.register('db');
    for (let i = 0; i < 5; i++) brama.success('db');
    for (let i = 0; i < 4; i++) brama.failure('db');
    expect(brama.status('db')).toMatchObject({ state: 'closed', failureCount: 4 });
  });

  it('a success trips a window that a configure made trip-worthy (threshold lowered)', () => {
    const { brama, opened } = setup({ ...rate, window: { calls: 20 } });
    brama.register('db');
    for (let i = 0; i < 10; i++) {
      if (i % 3 === 0) brama.failure('db');
      else brama.success('db');
    }
    brama.success('db'); // 4 failures in 11: 36 % < 50 %
    brama.success('db');
    expect(brama.status('db')).toMatchObject({ state: 'closed', windowCalls: 12 });
    brama.configure({ failureRateThreshold: 0.3 });
    brama.success('db'); // 4 in 13: 30.8 % >= 30 %
    expect(brama.status('db').state).toBe('open');
    expect(opened()[0]!.data.trip).toEqual({
      rule: 'failure_rate',
      rate: 4 / 13,
      threshold: 0.3,
      calls: 13,
    });
  });

  it('empties the window when the circuit closes; outcomes while open do not enter it', () => {
    const { brama, clock } = setup({ ...rate, minimumCalls: 2, expiry: 1_000 });
    brama.register('db');
    brama.failure('db');
    brama.failure('db'); // 100 %: open
    expect(brama.status('db')).toMatchObject({ state: 'open', windowCalls: 2 });
    brama.success('db'); // while open: totals only
    expect(brama.status('db')).toMatchObject({ windowCalls: 2, totalSuccesses: 1 });
    clock.advance(1_000);
    expect(brama.isAvailable('db')).toBe(true); // the trial
    brama.success('db');
    expect(brama.status('db')).toMatchObject({
      state: 'closed',
      windowCalls: 0,
      failureRate: null,
    });
    brama.failure('db');
    brama.closeCircuit('db');
    expect(brama.status('db').windowCalls).toBe(0);
  });
});

describe("tripPolicy 'rate' with a time window", () => {
  it('counts the outcomes of the last T ms, in buckets of T/10', () => {
    const { brama, clock } = setup({
      ...rate,
      window: { ms: 1_000 },
      minimumCalls: 4,
      failureRateThreshold: 0.6,
    });
    brama.register('db');
    // clock at 1,000,000: bucket width 100 ms.
    brama.failure('db');
    brama.failure('db');
    clock.advance(500);
    brama.success('db');
    brama.success('db');
    brama.success('db'); // 5 outcomes, 2 failures: 40 %
    expect(brama.status('db')).toMatchObject({ state: 'closed', windowCalls: 5, failureRate: 0.4 });
    clock.advance(499); // 999 ms after the first two: still in
    expect(brama.status('db').windowCalls).toBe(5);
    clock.advance(1); // their bucket is 1,000 ms old: gone
    expect(brama.status('db')).toMatchObject({ windowCalls: 3, failureRate: null }); // below minimumCalls
    clock.advance(600);
    expect(brama.status('db')).toMatchObject({ windowCalls: 0, failureRate: null });
  });

  it('a success trips when older successes leaving the window raise the failure rate', () => {
    const { brama, clock, opened } = setup({
      ...rate,
      window: { ms: 1_000 },
      minimumCalls: 4,
      failureRateThreshold: 0.5,
    });
    brama.register('db');
    // clock at 1,000,000: bucket width 100 ms.
    for (let i = 0; i < 4; i++) brama.success('db');
    clock.advance(500);
    for (let i = 0; i < 3; i++) brama.failure('db'); // 7 outcomes, 3 failures: 43 %
    clock.advance(100);
    brama.success('db'); // 8 outcomes, 3 failures: 37.5 %, checked and quiet
    brama.success('db'); // 9, 33 %: a success within the same buckets cannot raise a rate
    expect(brama.status('db').state).toBe('closed');
    clock.advance(450); // the first four successes leave: 3 failures in 6 outcomes with this one
    brama.success('db');
    expect(brama.status('db').state).toBe('open');
    expect(opened()[0]?.data.trip).toMatchObject({ rule: 'failure_rate', rate: 0.5, calls: 6 });
  });
});

describe('slow calls', () => {
  it('a call at least slowCallMs long is slow; the slow-call rate opens the circuit', () => {
    const opts = { ...rate, minimumCalls: 4, slowCallMs: 100, slowCallRateThreshold: 0.5 };
    const { brama, opened } = setup(opts);
    brama.register('db');
    brama.success('db', { durationMs: 99 });
    brama.success('db'); // no duration: not slow
    brama.success('db', { durationMs: 100 });
    expect(brama.status('db')).toMatchObject({ state: 'closed', slowCallRate: null });
    brama.failure('db', { durationMs: 250 }); // 4 outcomes, 2 slow: 50 %
    expect(brama.status('db')).toMatchObject({
      state: 'open',
      slowCallRate: 0.5,
      failureRate: 0.25,
    });
    expect(opened()[0]!.data.trip).toMatchObject({ rule: 'slow_call_rate', rate: 0.5 });
  });

  it('run and wrap measure the duration with the registry clock', async () => {
    const opts = { ...rate, minimumCalls: 1, slowCallMs: 50, slowCallRateThreshold: 1 };
    const { brama, clock } = setup(opts);
    await brama.run('db', () => {
      clock.advance(49);
      return Promise.resolve('quick');
    });
    expect(brama.status('db')).toMatchObject({ state: 'closed', slowCallRate: 0 });
    const slow = brama.wrap('db', (ms: number) => {
      clock.advance(ms);
      return Promise.resolve(ms);
    });
    await slow(10);
    expect(brama.status('db').state).toBe('closed');
    await slow(60); // 1 of 3 slow: below 100 %
    expect(brama.status('db')).toMatchObject({ state: 'closed', windowCalls: 3 });
    brama.configure('db', { slowCallRateThreshold: 0.3 });
    await slow(60); // 2 of 4: 50 % >= 30 %
    expect(brama.status('db').state).toBe('open');
  });
});

describe('result-driven opening', () => {
  it('a failure with retryAfterMs opens at once for exactly that long, whatever the policy', () => {
    const { brama, clock, opened } = setup({ maxAttempts: 5, expiryStrategy: 'progressive' });
    brama.register('db');
    brama.failure('db', { reason: 'HTTP 429', retryAfterMs: 5_000 });
    expect(brama.status('db')).toMatchObject({
      state: 'open',
      openUntil: 1_005_000,
      failureCount: 1,
    });
    expect(opened()[0]!.data).toMatchObject({
      reason: 'HTTP 429',
      trip: { rule: 'retry_after', retryAfterMs: 5_000 },
    });
    // While open, §2 applies: totals only, the period stays.
    brama.failure('db', { retryAfterMs: 60_000 });
    expect(brama.status('db')).toMatchObject({ openUntil: 1_005_000, totalFailures: 2 });
    clock.advance(5_000);
    expect(brama.status('db').state).toBe('half_open');
    // It counted as an opening: a failed trial re-opens with the second progressive period.
    brama.failure('db');
    expect(brama.status('db').openUntil).toBe(1_005_000 + 2 * 60_000);
    // retryAfterMs: null is none.
    const other = setup({ maxAttempts: 2 }).brama;
    other.register('x');
    other.failure('x', { retryAfterMs: null });
    expect(other.status('x').state).toBe('closed');
  });

  it('classify can return { failure, retryAfterMs }, e.g. from a Retry-After header', async () => {
    const { brama, clock } = setup();
    const response = { status: 503, retryAfter: '120' };
    await brama.run('api', () => Promise.resolve(response), {
      classify: (r) =>
        r.status >= 500
          ? {
              failure: `HTTP ${r.status}`,
              retryAfterMs: parseRetryAfter(r.retryAfter, clock.now()),
            }
          : 'success',
    });
    expect(brama.status('api')).toMatchObject({ state: 'open', openUntil: 1_120_000 });
    const bad = await brama
      .run('bad', () => Promise.resolve(1), {
        classify: () => ({ failure: 'x', retryAfterMs: -1 }),
      })
      .catch((error: unknown) => (isBramaError(error) ? error.code : error));
    expect(bad).toBe('BRAMA_INVALID_OPTION');
    expect(brama.status('bad').totalFailures).toBe(0);
  });
});

describe('successThreshold', () => {
  it('closes a half-open circuit after that many successful trials in a row', () => {
    const { brama, clock } = setup({
      maxAttempts: 1,
      expiry: 100,
      successThreshold: 3,
      halfOpenProbes: 1,
    });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    for (let i = 0; i < 2; i++) {
      expect(brama.isAvailable('db')).toBe(true);
      expect(brama.isAvailable('db')).toBe(false); // one trial at a time
      brama.success('db');
      expect(brama.status('db').state).toBe('half_open');
    }
    expect(brama.isAvailable('db')).toBe(true);
    brama.success('db');
    expect(brama.status('db').state).toBe('closed');
    // A failing trial re-opens it, and the count starts over.
    brama.failure('db');
    clock.advance(200);
    expect(brama.isAvailable('db')).toBe(true);
    brama.success('db');
    brama.isAvailable('db');
    brama.failure('db');
    expect(brama.status('db').state).toBe('open');
  });
});

describe('a configure that changes the trip policy or the window shape', () => {
  it('empties the window (its counts say nothing under the new shape)', () => {
    const { brama } = setup({ ...rate, minimumCalls: 4 });
    brama.register('db');
    brama.register('api', { window: { calls: 10 } });
    for (const id of ['db', 'api']) {
      brama.failure(id);
      brama.success(id);
      brama.failure(id);
    }
    brama.configure({ window: { calls: 50 } }); // db's shape changes; api keeps its own
    expect(brama.status('db')).toMatchObject({ windowCalls: 0, failureRate: null });
    expect(brama.status('api')).toMatchObject({ windowCalls: 3 });
    brama.configure('api', { tripPolicy: 'consecutive' });
    brama.configure('api', { tripPolicy: 'rate' }); // back: the old outcomes do not return
    expect(brama.status('api').windowCalls).toBe(0);
    brama.failure('db');
    expect(brama.status('db')).toMatchObject({ state: 'closed', windowCalls: 1 });
  });
});

describe('rampUpMs', () => {
  it('lets calls back in gradually after trials close the circuit (seeded random)', () => {
    const draws = [0.1, 0.3, 0.6, 0.49, 0.99];
    let i = 0;
    const random = () => draws[i++ % draws.length]!;
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 100, rampUpMs: 1_000, random });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    expect(brama.isAvailable('db')).toBe(true); // the trial
    brama.success('db');
    expect(brama.status('db').state).toBe('closed');
    clock.advance(500); // share 0.5
    expect([0, 1, 2, 3, 4].map(() => brama.isAvailable('db'))).toEqual([
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(brama.wouldAdmit('db')).toBe(true); // draws 0.1 again
    const drawn = i;
    clock.advance(500); // share 1: everyone, and the ramp-up is over (nothing drawn any more)
    expect([0, 1, 2, 3, 4].map(() => brama.isAvailable('db'))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(i).toBe(drawn);
  });

  it('a refused call gets a CircuitOpenError; closeCircuit and resetCircuit end the ramp-up', async () => {
    const { brama, clock } = setup({
      maxAttempts: 1,
      expiry: 100,
      rampUpMs: 1_000,
      random: () => 0.99,
    });
    brama.register('db');
    brama.failure('db');
    clock.advance(100);
    brama.isAvailable('db');
    brama.success('db');
    clock.advance(250);
    const refused = await brama.run('db', () => 'value').catch((e: unknown) => e);
    expect(isBramaError(refused, 'BRAMA_CIRCUIT_OPEN') && refused.state).toBe('closed');
    // Every call gets in again when the ramp-up ends, 750 ms from now.
    expect(isBramaError(refused, 'BRAMA_CIRCUIT_OPEN') && refused.retryAfterMs).toBe(750);
    brama.closeCircuit('db');
    expect(brama.isAvailable('db')).toBe(true);
  });

  it('a random source that throws or answers nonsense falls back to Math.random', () => {
    for (const random of [
      () => 2,
      () => Number.NaN,
      () => {
        throw new Error('rng');
      },
    ]) {
      const { brama, clock } = setup({ maxAttempts: 1, expiry: 100, rampUpMs: 1_000, random });
      brama.register('db');
      brama.failure('db');
      clock.advance(100);
      brama.isAvailable('db');
      brama.success('db');
      clock.advance(999);
      expect(() => brama.isAvailable('db')).not.toThrow();
    }
  });
});

describe("mode 'shadow'", () => {
  it('computes states and events as enforce, but refuses nothing', async () => {
    const { brama, clock, opened } = setup({ maxAttempts: 2, expiry: 100, mode: 'shadow' });
    brama.register('db');
    brama.failure('db');
    brama.failure('db');
    expect(brama.status('db').state).toBe('open');
    expect(opened()).toHaveLength(1);
    expect(brama.isAvailable('db')).toBe(true);
    expect(brama.wouldAdmit('db')).toBe(true);
    let ran = 0;
    await brama.run('db', () => ++ran);
    expect(ran).toBe(1);
    clock.advance(100);
    expect(brama.isAvailable('db')).toBe(true); // the trial (slot taken, as in enforce)
    expect(brama.isAvailable('db')).toBe(true); // would be refused in enforce
    expect(brama.status('db').state).toBe('half_open');
  });
});

describe("the 'consecutive' policy keeps no window", () => {
  it('reports null rates and an empty window', () => {
    const { brama } = setup();
    brama.register('db');
    brama.failure('db', { durationMs: 10 });
    expect(brama.status('db')).toMatchObject({
      tripPolicy: 'consecutive',
      failureRate: null,
      slowCallRate: null,
      windowCalls: 0,
      window: { calls: 100 },
      minimumCalls: 10,
      successThreshold: 1,
      rampUpMs: 0,
      mode: 'enforce',
    });
  });
});

describe('validation of the new options', () => {
  it.each([
    ['tripPolicy', 'percent'],
    ['failureRateThreshold', 0],
    ['failureRateThreshold', 1.5],
    ['slowCallMs', -1],
    ['slowCallMs', 'slow'],
    ['slowCallRateThreshold', Number.NaN],
    ['window', { calls: 0 }],
    ['window', { calls: 1.5 }],
    ['window', { calls: 10_001 }],
    ['window', { ms: 5 }],
    ['window', { calls: 10, ms: 100 }],
    ['window', { count: 10 }],
    ['window', 100],
    ['minimumCalls', 0],
    ['successThreshold', 0],
    ['rampUpMs', -5],
    ['mode', 'audit'],
  ])('rejects %s = %o, naming the option, the range and the value', (key, value) => {
    let message = '';
    try {
      new Brama({ [key]: value });
    } catch (error) {
      expect(isBramaError(error, 'BRAMA_INVALID_OPTION')).toBe(true);
      message = (error as Error).message;
    }
    expect(message).toContain(`"${key}"`);
    expect(message).toContain('expected');
  });

  it('rejects minimumCalls above a count window given with it, and caps it across levels', () => {
    expect(
      code(() => new Brama({ tripPolicy: 'rate', window: { calls: 5 }, minimumCalls: 6 })),
    ).toBe('BRAMA_INVALID_OPTION');
    const brama = new Brama({ cleanupInterval: 0, minimumCalls: 50 });
    brama.register('db', { window: { calls: 20 } });
    expect(brama.status('db').minimumCalls).toBe(20);
    expect(code(() => brama.configure('db', { minimumCalls: 30 }))).toBe('BRAMA_INVALID_OPTION');
  });

  it('keeps a copy of the window: changing the object later changes nothing', () => {
    const window = { calls: 10 };
    const brama = new Brama({ cleanupInterval: 0, window });
    window.calls = 3;
    brama.register('db');
    expect(brama.status('db').window).toEqual({ calls: 10 });
  });

  it('checks durationMs and retryAfterMs of reports', () => {
    const { brama } = setup();
    brama.register('db');
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      expect(code(() => brama.success('db', { durationMs: bad as number }))).toBe(
        'BRAMA_INVALID_OPTION',
      );
      expect(code(() => brama.failure('db', { retryAfterMs: bad as number }))).toBe(
        'BRAMA_INVALID_OPTION',
      );
    }
    expect(code(() => brama.success('db', { retryAfterMs: 5 } as never))).toBe(
      'BRAMA_INVALID_OPTION',
    );
    expect(brama.status('db')).toMatchObject({ totalSuccesses: 0, totalFailures: 0 });
  });

  it('rejects a random option that is not a function', () => {
    expect(code(() => new Brama({ random: 0.5 as never }))).toBe('BRAMA_INVALID_OPTION');
  });
});

describe('setState and the testing kit with policies', () => {
  it('forcing half-open then successes respects successThreshold', () => {
    const { brama } = setup({ successThreshold: 2 });
    brama.register('db');
    setState(brama, 'db', 'half_open');
    brama.isAvailable('db');
    brama.success('db');
    expect(brama.status('db').state).toBe('half_open');
    brama.isAvailable('db');
    brama.success('db');
    expect(brama.status('db').state).toBe('closed');
  });
});
