/**
 * Quick start: the report API. Ask before a call, report its outcome after.
 * Run with `npx tsx examples/quick-start.ts`.
 */
import { Brama } from 'brama';

const brama = new Brama({ maxAttempts: 3, expiry: 30_000 });

brama.register('payments-api', { scope: 'billing', metadata: { team: 'checkout' } });

// A stand-in for the real client: fails while `paymentsDown` is true.
let paymentsDown = false;
async function callPaymentsApi(amount: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (paymentsDown) throw new Error('connect ECONNREFUSED payments.internal:443');
  return `receipt for ${amount}`;
}

async function charge(amount: number): Promise<string> {
  if (!brama.isAvailable('payments-api', { scope: 'billing' })) {
    return 'payments unavailable, order queued'; // the circuit is open: don't even try
  }
  try {
    const receipt = await callPaymentsApi(amount);
    brama.success('payments-api', { scope: 'billing' });
    return receipt;
  } catch (error) {
    // `reason` takes a string or an Error (kept as lastFailureReason).
    const reason = error instanceof Error ? error : String(error);
    brama.failure('payments-api', { scope: 'billing', reason });
    return 'payment failed';
  }
}

console.log(await charge(10)); // receipt for 10  (unknown → closed)
paymentsDown = true;
for (let i = 0; i < 4; i++) console.log(await charge(20)); // 3 x failed, then refused

const status = brama.status('payments-api', { scope: 'billing' });
console.log(status.state); // 'open'
console.log(status.failureCount, status.totalFailures, status.totalSuccesses); // 3 3 1
console.log(status.lastFailureReason); // 'Error: connect ECONNREFUSED payments.internal:443'
console.log(status.openUntil! - status.openedAt!); // 30000: half-open after 30 s
