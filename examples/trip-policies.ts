/**
 * Trip policies: a failure-rate window with a slow-call rule, a success threshold and a
 * ramp-up, and a circuit opened by an HTTP `Retry-After` header. Runs offline against a local
 * server: `npx tsx examples/trip-policies.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Brama, parseRetryAfter } from 'brama';

// A local stand-in for a remote API: /busy answers 503 with `Retry-After: 30`, anything else 200.
const server = createServer((req, res) => {
  if (req.url === '/busy') {
    res.statusCode = 503;
    res.setHeader('retry-after', '30');
  }
  res.end('{}');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/busy`;

async function fetchPrice(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return 42;
}

const brama = new Brama();
brama.register('pricing-api', {
  tripPolicy: 'rate',
  failureRateThreshold: 0.3, // 30 % of the calls of the last 10 s failed...
  window: { ms: 10_000 },
  minimumCalls: 20, // ...and at least 20 calls were made
  slowCallMs: 2_000, // or 80 % of them took 2 s or more
  slowCallRateThreshold: 0.8,
  successThreshold: 3, // three good trials before closing
  rampUpMs: 30_000, // then let traffic back in over 30 s
});

// `run` and `wrap` time the call with the registry's clock; the report API takes the duration.
const started = performance.now();
const price = await fetchPrice();
brama.success('pricing-api', { durationMs: performance.now() - started });

const { windowCalls, failureRate } = brama.status('pricing-api');
console.log(price, windowCalls, failureRate); // 42 1 null (below minimumCalls)

await brama.run('payments-api', () => fetch(url), {
  classify: (response) =>
    response.status === 429 || response.status === 503
      ? {
          failure: `HTTP ${response.status}`,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        }
      : 'success',
});

const payments = brama.status('payments-api');
console.log(payments.state, payments.openUntil! - payments.openedAt!); // open 30000

server.close();
await brama.close();
