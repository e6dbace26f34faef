import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './index.js';

const NOW = Date.UTC(2015, 9, 21, 7, 28, 0); // Wed, 21 Oct 2015 07:28:00 GMT

describe('parseRetryAfter', () => {
  it('reads delta-seconds as ms', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads the three HTTP-date forms as ms from now; a past date gives 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:05 2015', NOW)).toBe(5_000);
    expect(parseRetryAfter('Wed Oct  1 07:28:05 2015', NOW)).toBe(0); // in the past
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
  });

  it('gives null for missing or malformed values', () => {
    for (const bad of [
      undefined,
      null,
      120,
      '',
      '-5',
      '1.5',
      'soon',
      '2015-10-21T07:28:30Z',
      'Wed, 31 Feb 2015 07:28:30 GMT',
      'Wed, 21 Oct 2015 25:28:30 GMT',
      'Wed, 21 Oct 2015 07:28:30 CET',
      '99999999999999999999',
    ]) {
      expect(parseRetryAfter(bad, NOW), String(bad)).toBeNull();
    }
  });

  it('defaults now to the current time', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const ms = parseRetryAfter(inAMinute);
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});
