import { describe, expect, it } from 'vitest';
import { Brama, CircuitOpenError, circuitBreaker } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

// Compiled with `experimentalDecorators` (see tsconfig.json beside this file).
const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0, maxAttempts: 1 });

/** Records the arity the decorator was called with: 3 in the legacy form, 2 in TC39. */
const arities: number[] = [];
function probe(...args: unknown[]): void {
  arities.push(args.length);
}

class Mailer {
  sent: string[] = [];

  @probe
  probed(): void {}

  @circuitBreaker(brama, { identifier: 'smtp', timeout: 1_000 })
  async send(to: string): Promise<string> {
    await Promise.resolve();
    if (to.endsWith('.invalid')) throw new Error(`cannot reach ${to}`);
    this.sent.push(to);
    return `sent to ${to}`;
  }
}

describe('@circuitBreaker (legacy experimentalDecorators)', () => {
  it('protects the method with this and arguments intact', async () => {
    const mailer = new Mailer();
    await expect(mailer.send('a@example.com')).resolves.toBe('sent to a@example.com');
    expect(mailer.sent).toEqual(['a@example.com']);
    await expect(mailer.send('b@host.invalid')).rejects.toThrow('cannot reach');
    await expect(mailer.send('c@example.com')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(brama.status('smtp')).toMatchObject({
      state: 'open',
      totalSuccesses: 1,
      totalFailures: 1,
    });
  });

  it('really is the legacy form (decorators received target, key and descriptor)', () => {
    expect(arities).toEqual([3]);
    const descriptor = Object.getOwnPropertyDescriptor(Mailer.prototype, 'send');
    expect(typeof descriptor?.value).toBe('function');
  });
});
