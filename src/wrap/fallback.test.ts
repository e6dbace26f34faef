/** `fallback` and `fallbackOn`: which outcomes the fallback replaces, and what is counted. */
import { describe, expect, it, vi } from 'vitest';
import { Brama, CircuitOpenError, isBramaError } from '../index.js';
import { ManualClock } from '../testing/index.js';

function setup() {
  const clock = new ManualClock(0);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 2 });
  return { clock, brama };
}

const down = new Error('down');
const failing = () => Promise.reject(down);

describe('fallbackOn', () => {
  it("'refusal' (the default): failures are re-thrown, refusals fall back", async () => {
    const { brama } = setup();
    const fallback = vi.fn(() => 'cached');
    for (const opts of [{ fallback }, { fallback, fallbackOn: 'refusal' as const }]) {
      await expect(brama.run('api', failing, opts)).rejects.toBe(down);
    }
    expect(fallback).not.toHaveBeenCalled();
    expect(brama.status('api').state).toBe('open'); // two failures counted
    await expect(brama.run('api', failing, { fallback })).resolves.toBe('cached');
    expect(fallback).toHaveBeenCalledWith(expect.any(CircuitOpenError));
  });

  it("'failure': a counted failure falls back after it is counted; a refusal rejects", async () => {
    const { brama } = setup();
    const seen: unknown[] = [];
    const opts = {
      fallbackOn: 'failure' as const,
      fallback: (error: unknown) => {
        seen.push(error);
        return 'cached';
      },
    };
    await expect(brama.run('api', failing, opts)).resolves.toBe('cached');
    await expect(
      brama.run(
        'api',
        () => {
          throw down; // a synchronous throw too
        },
        opts,
      ),
    ).resolves.toBe('cached');
    expect(seen).toEqual([down, down]);
    expect(brama.status('api')).toMatchObject({ state: 'open', totalFailures: 2 });
    await expect(brama.run('api', failing, opts)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(seen).toHaveLength(2);
  });

  it("'both': refusals and failures fall back, with the wrapped call's arguments", async () => {
    const { brama } = setup();
    const fallback = vi.fn((_error: unknown, id: number) => `cached ${id}`);
    const get = brama.wrap('api', (id: number) => Promise.reject(new Error(`no ${id}`)), {
      fallbackOn: 'both',
      fallback,
    });
    const results = [];
    for (const id of [1, 2, 3]) results.push(await get(id));
    expect(results).toEqual(['cached 1', 'cached 2', 'cached 3']);
    expect(fallback.mock.calls.map(([error]) => (error as Error).message)).toEqual([
      'no 1',
      'no 2',
      'Circuit api is open; retry after 60000 ms',
    ]);
  });

  it('errors that do not count (isFailure), aborts and classified results are not replaced', async () => {
    const { brama } = setup();
    const fallback = vi.fn(() => 'cached');
    const invalid = new TypeError('bad input');
    await expect(
      brama.run('api', () => Promise.reject(invalid), {
        fallbackOn: 'both',
        fallback,
        isFailure: (e) => !(e instanceof TypeError),
      }),
    ).rejects.toBe(invalid);
    const controller = new AbortController();
    const aborted = brama.run('api', () => new Promise(() => {}), {
      fallbackOn: 'both',
      fallback,
      signal: controller.signal,
    });
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    // A fulfilled result counted as a failure is still the caller's to inspect.
    await expect(
      brama.run('api', () => Promise.resolve(503), {
        fallbackOn: 'both',
        fallback,
        classify: (status) => (status >= 500 ? 'failure' : 'success'),
      }),
    ).resolves.toBe(503);
    expect(fallback).not.toHaveBeenCalled();
    expect(brama.status('api').totalFailures).toBe(1);
  });

  it('a timeout is counted and falls back; the fallback may be async or throw', async () => {
    const { brama, clock } = setup();
    const pending = brama.run('api', () => new Promise(() => {}), {
      timeout: 100,
      fallbackOn: 'failure',
      fallback: (error) => Promise.resolve(isBramaError(error, 'BRAMA_TIMEOUT') ? 'late' : '?'),
    });
    clock.advance(100);
    await expect(pending).resolves.toBe('late');
    expect(brama.status('api').totalFailures).toBe(1);
    const replaced = new Error('fallback failed too');
    await expect(
      brama.run('api', failing, {
        fallbackOn: 'failure',
        fallback: () => {
          throw replaced;
        },
      }),
    ).rejects.toBe(replaced);
    expect(brama.status('api')).toMatchObject({ state: 'open', totalFailures: 2 });
  });

  it('is validated: BRAMA_INVALID_OPTION names the option, the allowed values and the value', async () => {
    const { brama } = setup();
    const error = await brama
      .run('api', () => 1, { fallbackOn: 'always' as never })
      .catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toBe(
      `Invalid option "fallbackOn": expected 'refusal', 'failure' or 'both', received "always"`,
    );
    expect(() => brama.wrap('api', () => 1, { fallbackOn: 1 as never })).toThrow(
      /"fallbackOn".*received 1$/,
    );
    expect(() => brama.status('api')).toThrow(/not registered/); // nothing registered
  });
});
