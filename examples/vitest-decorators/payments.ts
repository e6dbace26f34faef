/** The code under test: a client whose method is protected by `@circuitBreaker`. */
import { circuitBreaker, type Brama } from 'brama';

/** Charges through a payment API; `send` stands in for the real HTTP call. */
export function createPayments(brama: Brama, send: (amount: number) => Promise<string>) {
  class Payments {
    @circuitBreaker(brama, { identifier: 'payments-api', maxAttempts: 2, expiry: 10_000 })
    async charge(amount: number): Promise<string> {
      return send(amount);
    }
  }
  return new Payments();
}
