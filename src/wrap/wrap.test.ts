import { describe, expect, expectTypeOf, it } from 'vitest';
import { Brama, CircuitOpenError, type CallOptions } from '../index.js';
import { ManualClock } from '../testing/index.js';

const brama = () => new Brama({ clock: new ManualClock(0), cleanupInterval: 0, maxAttempts: 2 });

describe('wrap', () => {
  it('passes arguments and this unchanged and returns the result', async () => {
    const b = brama();
    const target = { base: 10 };
    function addTo(this: { base: number }, a: number, b2: number) {
      return Promise.resolve(this.base + a + b2);
    }
    const add = b.wrap('calc', addTo);
    await expect(add.call(target, 1, 2)).resolves.toBe(13);
    expect(b.status('calc').totalSuccesses).toBe(1);
  });

  it('opens after failures and refuses with CircuitOpenError', async () => {
    const b = brama();
    let calls = 0;
    const fetchUser = b.wrap('users', (id: string) => {
      calls++;
      return Promise.reject(new Error(`no ${id}`));
    });
    await expect(fetchUser('a')).rejects.toThrow('no a');
    await expect(fetchUser('b')).rejects.toThrow('no b');
    await expect(fetchUser('c')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(2);
  });

  it('applies timeout and signal to every call of the wrapped function', async () => {
    const clock = new ManualClock(0);
    const b = new Brama({ clock, cleanupInterval: 0 });
    const hang = b.wrap('slow', (_label: string) => new Promise<never>(() => undefined), {
      timeout: 100,
    });
    const first = hang('a').catch((e: unknown) => e);
    clock.advance(100);
    expect(await first).toMatchObject({ code: 'BRAMA_TIMEOUT' });
    const controller = new AbortController();
    const abortable = b.wrap('slow', () => new Promise<never>(() => undefined), {
      signal: controller.signal,
    });
    const second = abortable().catch((e: unknown) => e);
    controller.abort('bye');
    expect(await second).toBe('bye');
    expect(b.status('slow')).toMatchObject({ totalFailures: 1, totalSuccesses: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('validates its options when wrapping', () => {
    const b = brama();
    expect(() => b.wrap('x', () => 1, { timeout: Number.NaN })).toThrow(/timeout.*NaN/);
  });
});

describe('wrap types', () => {
  it('keeps parameter and return types, including generics', () => {
    const b = brama();
    const get = b.wrap('api', (url: string, retries?: number) => Promise.resolve({ url, retries }));
    expectTypeOf(get).parameters.toEqualTypeOf<[url: string, retries?: number]>();
    expectTypeOf(get).returns.toEqualTypeOf<
      Promise<{ url: string; retries: number | undefined }>
    >();

    const sync = b.wrap('api', (n: number) => n * 2);
    expectTypeOf(sync).toEqualTypeOf<(n: number) => Promise<number>>();

    const identity = b.wrap('api', <T>(value: T) => Promise.resolve(value));
    expectTypeOf(identity<string>).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(identity(42)).toEqualTypeOf<Promise<number>>();

    expectTypeOf(b.run('api', () => Promise.resolve(1))).toEqualTypeOf<Promise<number>>();
    expectTypeOf(b.run('api', (signal) => signal.aborted)).toEqualTypeOf<Promise<boolean>>();

    // @ts-expect-error wrong argument type
    void get(1);
    // @ts-expect-error missing argument
    void get();
    const classifyText = (r: string) => (r ? ('success' as const) : ('failure' as const));
    // @ts-expect-error the classifier sees the fulfilled value type (number, not string)
    b.wrap('api', () => Promise.resolve(1), { classify: classifyText });
    // The fallback may return another type: the call resolves to either.
    const orText = b.wrap('api', (id: number) => Promise.resolve(id), { fallback: () => 'text' });
    expectTypeOf(orText).returns.toEqualTypeOf<Promise<number | string>>();
    expectTypeOf(
      b.run('api', () => Promise.resolve(1), { fallback: () => Promise.resolve(null) }),
    ).toEqualTypeOf<Promise<number | null>>();
    expectTypeOf(b.run('api', () => 1, { fallback: () => 2 })).toEqualTypeOf<Promise<number>>();
    // A fallback that takes fewer parameters does not narrow the wrapped function's parameters.
    const query = b.wrap(
      'db',
      (sql: string, values?: unknown[]) => Promise.resolve({ sql, values }),
      {
        fallback: () => ({ sql: 'cached', values: undefined }),
      },
    );
    expectTypeOf(query).parameters.toEqualTypeOf<[sql: string, values?: unknown[]]>();
    b.wrap('api', (id: number) => Promise.resolve(id), {
      fallback: (error, id) => {
        expectTypeOf(error).toEqualTypeOf<CircuitOpenError>();
        expectTypeOf(id).toEqualTypeOf<number>();
        return id;
      },
    });
    // With fallbackOn 'failure' or 'both', the fallback also sees the call's own errors.
    const safe = b.wrap('api', (id: number) => Promise.resolve(id), {
      fallbackOn: 'both',
      fallback: (error, id) => {
        expectTypeOf(error).toEqualTypeOf<unknown>();
        expectTypeOf(id).toEqualTypeOf<number>();
        return 'none' as const;
      },
    });
    expectTypeOf(safe).returns.toEqualTypeOf<Promise<number | 'none'>>();
    void b.run('api', () => 1, {
      fallbackOn: 'failure',
      fallback: (error) => expectTypeOf(error).toEqualTypeOf<unknown>(),
    });
    // A fallback that takes fewer parameters leaves the wrapped function's parameters alone.
    expectTypeOf(
      b.wrap('db', (sql: string, values?: unknown[]) => Promise.resolve(values ?? sql), {
        fallbackOn: 'both',
        fallback: () => [],
      }),
    ).parameters.toEqualTypeOf<[sql: string, values?: unknown[]]>();
    // Options built ahead of the call (either kind) are accepted as one type.
    const prebuilt: CallOptions<number, [], string> = { fallbackOn: 'both', fallback: () => 'x' };
    expectTypeOf(b.run('api', () => 1, prebuilt)).toEqualTypeOf<Promise<number | string>>();
    const typeOnly = (): unknown[] => [
      // @ts-expect-error fallbackOn takes 'refusal', 'failure' or 'both'
      b.run('api', () => 1, { fallbackOn: 'always', fallback: () => 2 }),
      // @ts-expect-error a refusal-only fallback's error is a CircuitOpenError, not a string
      b.run('api', () => 1, { fallback: (error: string) => error }),
    ];
    expect(typeOnly).toBeTypeOf('function'); // checked by tsc, never called
  });
});
