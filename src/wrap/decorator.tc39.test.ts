import { describe, expect, it } from 'vitest';
import { Brama, CircuitOpenError, circuitBreaker, isBramaError } from '../index.js';
import { ManualClock } from '../testing/index.js';

// TC39 standard decorators (TypeScript 5 without experimentalDecorators). The legacy form is
// tested in test/legacy-decorators/ under its own tsconfig.
const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0, maxAttempts: 2 });

/** Records the arity the decorator was called with: 2 in TC39, 3 in the legacy form. */
const arities: number[] = [];
function probe(...args: unknown[]): void {
  arities.push(args.length);
}

class Inventory {
  @probe
  probed(): void {}

  calls = 0;
  constructor(private readonly stock: Record<string, number>) {}

  @circuitBreaker(brama, { identifier: 'inventory', scope: 'shop' })
  async count(item: string): Promise<number> {
    this.calls++;
    await Promise.resolve();
    const n = this.stock[item];
    if (n === undefined) throw new Error(`unknown item ${item}`);
    return n;
  }

  @circuitBreaker(brama, {
    identifier: 'pricing',
    classify: (price: number) => (price < 0 ? { failure: 'negative price' } : 'success'),
  })
  price(item: string): Promise<number> {
    return Promise.resolve(item === 'bad' ? -1 : 9.99);
  }
}

// Type-level: a method that does not return a promise cannot be decorated (the protected
// method always returns one).
export class SyncMethod {
  // @ts-expect-error only methods returning a promise can be decorated
  @circuitBreaker(brama, { identifier: 'sync' })
  twice(n: number): number {
    return n * 2;
  }
}

describe('@circuitBreaker (TC39 decorators)', () => {
  it('protects the method, keeps this and arguments, registers on first use', async () => {
    const inventory = new Inventory({ apple: 3 });
    await expect(inventory.count('apple')).resolves.toBe(3);
    expect(brama.status('inventory', { scope: 'shop' })).toMatchObject({
      state: 'closed',
      totalSuccesses: 1,
    });
    await expect(inventory.count('pear')).rejects.toThrow('unknown item pear');
    await expect(inventory.count('pear')).rejects.toThrow('unknown item pear');
    await expect(inventory.count('apple')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(inventory.calls).toBe(3);
  });

  it('really is the TC39 form (decorators received the method and a context)', () => {
    expect(arities).toEqual([2]);
  });

  it('applies classify', async () => {
    const inventory = new Inventory({});
    await inventory.price('bad');
    expect(brama.status('pricing')).toMatchObject({
      failureCount: 1,
      lastFailureReason: 'negative price',
    });
  });

  it('validates its options at decoration time', () => {
    let error: unknown;
    try {
      circuitBreaker(brama, { identifier: '' });
    } catch (e) {
      error = e;
    }
    expect(isBramaError(error, 'BRAMA_INVALID_ARGUMENT')).toBe(true);
    expect(() => circuitBreaker(brama, { identifier: 'x', maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => circuitBreaker({} as Brama, { identifier: 'x' })).toThrow(/Brama instance/);
  });
});
