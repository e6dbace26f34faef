import { describe, expect, it } from 'vitest';
import { Brama, isBramaError } from '../index.js';
import { ManualClock } from '../testing/index.js';
import { CALL_OPTION_KEYS, callOptionsOf, NO_CALL_OPTIONS, WATCHED_KEYS } from './call-options.js';

describe('run options are parsed once per options object', () => {
  it('the same object gives the same parse; absent options give the shared empty one', () => {
    const opts = { timeout: 1_000, maxAttempts: 3 };
    const first = callOptionsOf(opts, 'run options');
    expect(callOptionsOf(opts, 'run options')).toBe(first);
    expect(callOptionsOf({ ...opts }, 'run options')).not.toBe(first);
    expect(callOptionsOf(undefined, 'run options')).toBe(NO_CALL_OPTIONS);
  });

  it('notices a change of any call option (the comparison covers every key)', () => {
    expect([...WATCHED_KEYS].sort()).toEqual([...CALL_OPTION_KEYS].sort());
    for (const key of CALL_OPTION_KEYS) {
      const opts: Record<string, unknown> = {};
      const first = callOptionsOf(opts, 'run options');
      opts[key] = undefined; // present but undefined reads the same: still the same parse
      expect(callOptionsOf(opts, 'run options')).toBe(first);
      opts[key] =
        key === 'fallbackOn'
          ? 'both'
          : key === 'signal'
            ? new AbortController().signal
            : key === 'scope' || key === 'expiryStrategy'
              ? 'progressive'
              : key === 'tripPolicy'
                ? 'rate'
                : key === 'mode'
                  ? 'shadow'
                  : key === 'window'
                    ? { calls: 5 }
                    : key === 'failureRateThreshold' || key === 'slowCallRateThreshold'
                      ? 0.5
                      : key === 'metadata'
                        ? {}
                        : ['classify', 'isFailure', 'fallback'].includes(key)
                          ? () => 'success'
                          : 5;
      expect(callOptionsOf(opts, 'run options'), key).not.toBe(first);
    }
  });

  it('validates (enumerates the keys of) an unchanged object once', async () => {
    let enumerations = 0;
    const opts = new Proxy(
      { timeout: 1_000 },
      {
        ownKeys(target) {
          enumerations++;
          return Reflect.ownKeys(target);
        },
      },
    );
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    for (let i = 0; i < 5; i++) await brama.run('api', () => i, opts);
    expect(enumerations).toBe(1);
  });

  it('an object changed between calls is parsed again: run does what it says now', async () => {
    const clock = new ManualClock(0);
    const brama = new Brama({ clock, cleanupInterval: 0 });
    const opts: { timeout?: number; classify?: () => 'failure' } = {};
    await brama.run('api', () => 1, opts);
    expect(brama.status('api')).toMatchObject({ totalSuccesses: 1, totalFailures: 0 });

    opts.classify = () => 'failure'; // a key added later
    await brama.run('api', () => 1, opts);
    expect(brama.status('api').totalFailures).toBe(1);

    opts.timeout = 50;
    const late = brama.run('api', () => new Promise(() => {}), opts);
    clock.advance(50);
    await expect(late).rejects.toSatisfy((e) => isBramaError(e, 'BRAMA_TIMEOUT'));

    opts.timeout = -1; // now invalid: a typed rejection, as for a fresh object
    const error = await brama.run('api', () => 1, opts).catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(/"timeout".*received -1/);
  });

  it('a getter that starts throwing gives a BramaError, not the raw error', async () => {
    let armed = false;
    const opts = {
      get timeout(): number {
        if (armed) throw new Error('getter');
        return 1_000;
      },
    };
    const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
    await expect(brama.run('api', () => 1, opts)).resolves.toBe(1);
    armed = true;
    const error = await brama.run('api', () => 1, opts).catch((e: unknown) => e);
    expect(isBramaError(error, 'BRAMA_INVALID_ARGUMENT')).toBe(true);
  });
});
