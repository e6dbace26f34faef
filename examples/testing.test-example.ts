/**
 * Testing code that uses brama, with vitest and `brama/testing`: no sleeps, no fake timers.
 * (Named *.test-example.ts so that the library's own test run does not pick it up; copy it
 * into your project as a *.test.ts file.)
 */
import { describe, expect, it } from 'vitest';
import { Brama, CircuitOpenError, isBramaError } from 'brama';
import {
  ManualClock,
  addFailures,
  expectState,
  recordEvents,
  setState,
  simulateRecovery,
} from 'brama/testing';

/** The code under test: reads a price, or falls back to the cached one. */
async function priceOf(brama: Brama, fetchPrice: () => Promise<number>): Promise<number> {
  return brama.run('pricing-api', () => fetchPrice(), { fallback: () => 9.99 });
}

function setup() {
  const clock = new ManualClock(0);
  const brama = new Brama({ clock, maxAttempts: 3, expiry: 30_000, cleanupInterval: 0 });
  brama.register('pricing-api');
  return { clock, brama };
}

describe('priceOf', () => {
  it('serves the cached price while pricing-api is down, and recovers', async () => {
    const { clock, brama } = setup();
    const events = recordEvents(brama, { events: ['state_change'] });

    addFailures(brama, 'pricing-api', 3, { reason: 'ECONNRESET' });
    expectState(brama, 'pricing-api', 'open');

    let called = false;
    const fetchPrice = () => {
      called = true;
      return Promise.resolve(12.5);
    };
    expect(await priceOf(brama, fetchPrice)).toBe(9.99);
    expect(called).toBe(false);

    clock.advance(30_000); // the open period has elapsed: the next call is the trial
    expect(await priceOf(brama, fetchPrice)).toBe(12.5);
    expectState(brama, 'pricing-api', 'closed');

    // `events` holds state_change events only (the filter narrows their type too).
    expect(events.events.map((e) => e.data.to)).toEqual(['closed', 'open', 'half_open', 'closed']);
    const first = await events.waitFor('state_change');
    expect(first.data.to).toBe('closed'); // the earliest one recorded: unknown → closed
  });

  it('forces states directly', () => {
    const { brama } = setup();
    setState(brama, 'pricing-api', 'open');
    expect(brama.isAvailable('pricing-api')).toBe(false);
    simulateRecovery(brama, 'pricing-api'); // open → half_open → closed
    expectState(brama, 'pricing-api', 'closed');
  });

  it('times out on the manual clock', async () => {
    const { clock, brama } = setup();
    const call = brama.run('pricing-api', () => new Promise<number>(() => {}), { timeout: 2_000 });
    clock.advance(2_000); // fires the timeout scheduled on the manual clock
    await expect(call).rejects.toSatisfy((e) => isBramaError(e, 'BRAMA_TIMEOUT'));
    expect(brama.status('pricing-api').totalFailures).toBe(1);
  });

  it('refuses with CircuitOpenError when there is no fallback', async () => {
    const { clock, brama } = setup();
    setState(brama, 'pricing-api', 'open');
    clock.advance(10_000);
    const refused = brama.run('pricing-api', () => 1);
    await expect(refused).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(refused).rejects.toMatchObject({ retryAfterMs: 20_000, state: 'open' });
  });
});
