import { describe, expect, it } from 'vitest';
import { Brama, isBramaError } from 'brama';
import { ManualClock, expectState } from 'brama/testing';
import { createPayments } from './payments.js';

describe('Payments.charge under @circuitBreaker', () => {
  it('opens after two failures, refuses, and lets a trial through after the expiry', async () => {
    const clock = new ManualClock(0);
    const brama = new Brama({ clock, cleanupInterval: 0 });
    let up = false;
    const payments = createPayments(brama, (amount) =>
      up ? Promise.resolve(`charged ${amount}`) : Promise.reject(new Error('ECONNREFUSED')),
    );

    await expect(payments.charge(1)).rejects.toThrow('ECONNREFUSED');
    await expect(payments.charge(1)).rejects.toThrow('ECONNREFUSED');
    expectState(brama, 'payments-api', 'open');

    const refused: unknown = await payments.charge(1).catch((error: unknown) => error);
    expect(isBramaError(refused, 'BRAMA_CIRCUIT_OPEN') && refused.retryAfterMs).toBe(10_000);

    up = true;
    clock.advance(10_000);
    await expect(payments.charge(3)).resolves.toBe('charged 3');
    expectState(brama, 'payments-api', 'closed');
  });
});
