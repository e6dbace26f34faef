import { assertNever } from './assert-never.js';
import type { CircuitSettings } from './settings.js';

/**
 * How long the n-th consecutive opening lasts (n >= 1). Fixed: always `expiry`. Progressive:
 * `min(maxExpiry, initialExpiry * backoffFactor ** (n - 1))`.
 */
export function openPeriod(settings: CircuitSettings, opening: number): number {
  switch (settings.expiryStrategy) {
    case 'fixed':
      return settings.expiry;
    case 'progressive': {
      const grown = settings.initialExpiry * settings.backoffFactor ** Math.max(0, opening - 1);
      // Overflow to Infinity (huge n) is capped like any other large value.
      return Math.min(settings.maxExpiry, grown);
    }
    default:
      return assertNever(settings.expiryStrategy);
  }
}
