/**
 * The `@circuitBreaker` method decorator (TC39 standard decorators, TypeScript 5 without flags).
 * Run with `npx tsx examples/decorator.ts`.
 */
import { Brama, CircuitOpenError, circuitBreaker } from 'brama';

const brama = new Brama({ maxAttempts: 2, expiry: 20_000 });

class PaymentsClient {
  private attempts = 0;

  constructor(private readonly failing: boolean) {}

  // Same options as brama.wrap, plus the connection's identifier (and scope).
  @circuitBreaker(brama, { identifier: 'payments-api', scope: 'billing', timeout: 2_000 })
  async charge(amount: number): Promise<string> {
    this.attempts++; // `this` is the instance, as without the decorator
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failing) throw new Error(`payment of ${amount} failed (attempt ${this.attempts})`);
    return `charged ${amount}`;
  }
}

console.log(await new PaymentsClient(false).charge(5)); // charged 5

const flaky = new PaymentsClient(true);
for (let i = 0; i < 3; i++) {
  try {
    await flaky.charge(7);
  } catch (error) {
    if (error instanceof CircuitOpenError)
      console.log(`refused, retry in ${error.retryAfterMs} ms`);
    else console.log(String(error));
  }
}
// Error: payment of 7 failed (attempt 1)
// Error: payment of 7 failed (attempt 2)
// refused, retry in 19999 ms (about 20 s)

console.log(brama.status('payments-api', { scope: 'billing' }).state); // 'open'
