import { describe, expect, it } from 'vitest';
import { openPeriod } from './backoff.js';
import { resolveSettings } from './settings.js';

describe('openPeriod', () => {
  it('fixed: every opening lasts expiry', () => {
    const s = resolveSettings({}, { expiry: 1_000 });
    expect([1, 2, 3, 10].map((n) => openPeriod(s, n))).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('progressive: openings 1..5 grow by backoffFactor from initialExpiry', () => {
    const s = resolveSettings(
      {},
      { expiryStrategy: 'progressive', initialExpiry: 100, maxExpiry: 100_000 },
    );
    expect([1, 2, 3, 4, 5].map((n) => openPeriod(s, n))).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('progressive: a custom factor, and the cap at maxExpiry', () => {
    const s = resolveSettings(
      {},
      { expiryStrategy: 'progressive', initialExpiry: 100, backoffFactor: 3, maxExpiry: 1_000 },
    );
    expect([1, 2, 3, 4, 5].map((n) => openPeriod(s, n))).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it('progressive defaults: initialExpiry = expiry, maxExpiry = 10 x expiry', () => {
    const s = resolveSettings({ expiryStrategy: 'progressive' }, { expiry: 1_000 });
    expect(s.initialExpiry).toBe(1_000);
    expect(s.maxExpiry).toBe(10_000);
    expect([1, 2, 3, 4, 5, 6].map((n) => openPeriod(s, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('a factor of 1 keeps the initial period; a huge opening count stays capped', () => {
    const flat = resolveSettings(
      {},
      { expiryStrategy: 'progressive', initialExpiry: 50, backoffFactor: 1 },
    );
    expect(openPeriod(flat, 7)).toBe(50);
    const s = resolveSettings(
      {},
      { expiryStrategy: 'progressive', initialExpiry: 10, maxExpiry: 500 },
    );
    expect(openPeriod(s, 5_000)).toBe(500);
  });
});
