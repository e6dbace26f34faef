import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Brama, CircuitOpenError, isBramaError } from '../index.js';
import { ManualClock, recordEvents } from '../testing/index.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(0);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  return { clock, brama };
}

const boom = () => Promise.reject(new Error('boom'));

describe('run: outcomes', () => {
  it('auto-registers with the given options and counts a fulfilled call as success', async () => {
    const { brama } = setup();
    await expect(
      brama.run('api', () => Promise.resolve(42), { maxAttempts: 2, metadata: { a: 1 } }),
    ).resolves.toBe(42);
    expect(brama.status('api')).toMatchObject({
      state: 'closed',
      totalSuccesses: 1,
      maxAttempts: 2,
      metadata: { a: 1 },
    });
  });

  it('re-throws the original error object and counts it as a failure', async () => {
    const { brama } = setup();
    const error = new Error('down');
    const caught = await brama.run('api', () => Promise.reject(error)).catch((e: unknown) => e);
    expect(caught).toBe(error);
    expect(brama.status('api')).toMatchObject({
      totalFailures: 1,
      lastFailureReason: 'Error: down',
    });
  });

  it('counts a synchronous throw as a failure and rejects with it', async () => {
    const { brama } = setup();
    const error = new RangeError('sync');
    await expect(
      brama.run('api', () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(brama.status('api').totalFailures).toBe(1);
  });

  it('classify: failure, failure with reason, ignore', async () => {
    const { brama } = setup({ maxAttempts: 10 });
    const classify = (r: { status: number }) =>
      r.status >= 500
        ? { failure: `HTTP ${r.status}` }
        : r.status === 429
          ? ('ignore' as const)
          : r.status === 418
            ? ('failure' as const)
            : ('success' as const);
    await brama.run('api', () => Promise.resolve({ status: 503 }), { classify });
    expect(brama.status('api')).toMatchObject({ failureCount: 1, lastFailureReason: 'HTTP 503' });
    await brama.run('api', () => Promise.resolve({ status: 418 }), { classify });
    expect(brama.status('api')).toMatchObject({ failureCount: 2, lastFailureReason: null });
    await brama.run('api', () => Promise.resolve({ status: 429 }), { classify });
    expect(brama.status('api')).toMatchObject({
      failureCount: 2,
      totalSuccesses: 0,
      totalFailures: 2,
    });
    await brama.run('api', () => Promise.resolve({ status: 200 }), { classify });
    expect(brama.status('api')).toMatchObject({ failureCount: 0, totalSuccesses: 1 });
  });

  it('isFailure: errors it rejects are re-thrown but not counted', async () => {
    const { brama } = setup();
    class NotFound extends Error {}
    const isFailure = (e: unknown) => !(e instanceof NotFound);
    await expect(
      brama.run('api', () => Promise.reject(new NotFound('x')), { isFailure }),
    ).rejects.toBeInstanceOf(NotFound);
    expect(brama.status('api')).toMatchObject({
      totalFailures: 0,
      totalSuccesses: 0,
      state: 'unknown',
    });
  });

  it('a classifier that answers nonsense rejects with BRAMA_INVALID_OPTION and counts nothing', async () => {
    const { brama } = setup();
    const classify = () => 'sucess' as never;
    const error = await brama
      .run('api', () => Promise.resolve(1), { classify })
      .catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_INVALID_OPTION')).toBe(true);
    expect(brama.status('api')).toMatchObject({ totalFailures: 0, totalSuccesses: 0 });
  });

  it('without timeout or signal, every call gets one shared signal that never aborts nor keeps listeners', async () => {
    const { brama } = setup();
    const signals: AbortSignal[] = [];
    await brama.run('api', (signal) => signals.push(signal));
    await brama.run('api', (signal) => signals.push(signal));
    const [first, second] = signals as [AbortSignal, AbortSignal];
    expect(first).toBeInstanceOf(AbortSignal);
    expect(first).toBe(second);
    expect(first.aborted).toBe(false);
    expect(() => first.throwIfAborted()).not.toThrow();
    // Listeners that could never fire are not kept (they would pile up across calls).
    const listener = vi.fn();
    first.addEventListener('abort', listener);
    first.onabort = listener;
    expect(getEventListeners(first, 'abort')).toHaveLength(0);
  });

  it('with a timeout or a signal, a function that declares a parameter gets its own signal', async () => {
    const { brama } = setup();
    const caller = new AbortController();
    const signals: AbortSignal[] = [];
    await brama.run('api', (signal) => signals.push(signal), { timeout: 1_000 });
    await brama.run('api', (signal) => signals.push(signal), { timeout: 1_000 });
    await brama.run('api', (signal) => signals.push(signal), { signal: caller.signal });
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals[2]).toBe(caller.signal); // only the caller can abort: no signal of ours
  });
});

describe('run: open circuit', () => {
  it('does not call fn, rejects with CircuitOpenError carrying retryAfterMs', async () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 1_000 });
    await brama.run('api', boom).catch(() => undefined);
    clock.advance(250);
    let called = false;
    const error = await brama
      .run('api', () => {
        called = true;
        return Promise.resolve();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({
      code: 'BRAMA_CIRCUIT_OPEN',
      identifier: 'api',
      scope: null,
      state: 'open',
      retryAfterMs: 750,
    });
    expect(isBramaError(error, 'BRAMA_CIRCUIT_OPEN')).toBe(true);
  });

  it('returns the fallback instead (with the wrap arguments)', async () => {
    const { brama } = setup({ maxAttempts: 1 });
    brama.register('api');
    brama.openCircuit('api');
    await expect(
      brama.run('api', () => Promise.resolve('live'), { fallback: () => 'cached' }),
    ).resolves.toBe('cached');
    const get = brama.wrap('api', (id: number) => Promise.resolve(`live ${id}`), {
      fallback: (error, id) => `cached ${id} (${error.state})`,
    });
    await expect(get(7)).resolves.toBe('cached 7 (open)');
  });

  it('half-open trials go through the same admission (at most halfOpenProbes)', async () => {
    const { brama, clock } = setup({
      maxAttempts: 1,
      expiry: 100,
      halfOpenProbes: 1,
      probeTimeout: 1_000,
    });
    await brama.run('api', boom).catch(() => undefined);
    clock.advance(100);
    let release!: (v: string) => void;
    const trial = brama.run('api', () => new Promise<string>((r) => (release = r)));
    const refused = await brama
      .run('api', () => Promise.resolve('second'))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'BRAMA_CIRCUIT_OPEN',
      state: 'half_open',
      retryAfterMs: 1_000,
    });
    release('first');
    await expect(trial).resolves.toBe('first');
    expect(brama.status('api').state).toBe('closed');
  });

  it('an ignored trial frees its slot without closing', async () => {
    const { brama, clock } = setup({ maxAttempts: 1, expiry: 100 });
    await brama.run('api', boom).catch(() => undefined);
    clock.advance(100);
    await brama.run('api', () => Promise.resolve(0), { classify: () => 'ignore' });
    expect(brama.status('api').state).toBe('half_open');
    expect(brama.isAvailable('api')).toBe(true);
  });
});

describe('run: abort and timeout', () => {
  it('an already aborted signal: fn is not called, rejects with the reason, nothing counted', async () => {
    const { brama } = setup();
    const controller = new AbortController();
    const reason = new Error('user left');
    controller.abort(reason);
    let called = false;
    await expect(
      brama.run(
        'api',
        () => {
          called = true;
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe(reason);
    expect(called).toBe(false);
  });

  it('abort during the call rejects with the reason, aborts fn’s signal, counts nothing', async () => {
    const { brama } = setup();
    brama.register('api');
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const pending = brama.run(
      'api',
      (signal) => {
        inner = signal;
        return new Promise<never>(() => undefined);
      },
      { signal: controller.signal },
    );
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
    expect(inner?.aborted).toBe(true);
    expect(brama.status('api')).toMatchObject({ totalFailures: 0, totalSuccesses: 0 });
  });

  it('a timeout rejects with BRAMA_TIMEOUT, counts a failure, aborts fn’s signal, leaves no timer', async () => {
    const { brama, clock } = setup();
    let inner: AbortSignal | undefined;
    const pending = brama.run(
      'api',
      (signal) => {
        inner = signal;
        return new Promise<never>(() => undefined);
      },
      { timeout: 500 },
    );
    const settled = pending.catch((e: unknown) => e);
    clock.advance(499);
    expect(inner?.aborted).toBe(false);
    clock.advance(1);
    const error = await settled;
    expect(isBramaError(error, 'BRAMA_TIMEOUT')).toBe(true);
    expect(inner?.reason).toBe(error);
    expect(brama.status('api')).toMatchObject({
      totalFailures: 1,
    });
    expect(brama.status('api').lastFailureReason).toContain('500 ms');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a call that settles in time cancels its timer', async () => {
    const { brama, clock } = setup();
    await brama.run('api', () => Promise.resolve(1), {
      timeout: 500,
      signal: new AbortController().signal,
    });
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000);
    expect(brama.status('api')).toMatchObject({ totalFailures: 0, totalSuccesses: 1 });
  });

  it('a real short timeout works with the system clock', async () => {
    const brama = new Brama({ cleanupInterval: 0 });
    const error = await brama
      .run('api', () => new Promise<never>(() => undefined), { timeout: 5 })
      .catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_TIMEOUT')).toBe(true);
    await brama.close();
  });
});

describe('run: concurrency', () => {
  it('1,000 concurrent failing calls open the circuit exactly once and the counts add up', async () => {
    const { brama } = setup({ maxAttempts: 5 });
    const events = recordEvents(brama, { events: ['circuit_opened'] });
    let calls = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () =>
        brama.run('api', async () => {
          calls++;
          await Promise.resolve();
          throw new Error('down');
        }),
      ),
    );
    const refused = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof CircuitOpenError,
    ).length;
    // All 1,000 were admitted before any failed (they started together), so all ran.
    expect(calls).toBe(1_000);
    expect(calls + refused).toBe(1_000);
    expect(brama.status('api').totalFailures).toBe(calls);
    expect(events.events).toHaveLength(1);
    const after = await brama.run('api', () => Promise.resolve()).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(CircuitOpenError);
  });

  it('sequential failures: exactly maxAttempts calls run, the rest are refused', async () => {
    const { brama } = setup({ maxAttempts: 5 });
    let calls = 0;
    let refused = 0;
    for (let i = 0; i < 1_000; i++) {
      await brama
        .run('api', () => {
          calls++;
          return Promise.reject(new Error('down'));
        })
        .catch((e: unknown) => {
          if (e instanceof CircuitOpenError) refused++;
        });
    }
    expect([calls, refused]).toEqual([5, 995]);
  });
});

describe('run: input', () => {
  it('rejects bad input with typed errors and no registration', async () => {
    const { brama } = setup();
    await expect(brama.run('', () => 1)).rejects.toMatchObject({ code: 'BRAMA_INVALID_ARGUMENT' });
    await expect(brama.run('api', 'nope' as never)).rejects.toMatchObject({
      code: 'BRAMA_INVALID_ARGUMENT',
    });
    await expect(brama.run('api', () => 1, { timeout: -1 })).rejects.toMatchObject({
      code: 'BRAMA_INVALID_OPTION',
      message: expect.stringContaining('-1') as unknown,
    });
    await expect(brama.run('api', () => 1, { timeuot: 5 } as never)).rejects.toMatchObject({
      code: 'BRAMA_INVALID_OPTION',
      message: expect.stringContaining('did you mean "timeout"') as unknown,
    });
    expect(brama.list()).toEqual([]);
  });

  it('rejects with BRAMA_CLOSED after close', async () => {
    const { brama } = setup();
    await brama.close();
    await expect(brama.run('api', () => 1)).rejects.toMatchObject({ code: 'BRAMA_CLOSED' });
  });

  it('a call that outlives unregister reports nothing', async () => {
    const { brama } = setup();
    let release!: () => void;
    const pending = brama.run('api', () => new Promise<void>((r) => (release = r)));
    brama.unregister('api');
    brama.register('api');
    release();
    await pending;
    expect(brama.status('api').totalSuccesses).toBe(0);
  });
});
