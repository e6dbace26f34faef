/**
 * `brama.run` around an HTTP call with `fetch`: the AbortSignal, a timeout, and a classifier.
 * Runs offline against a local server: `npx tsx examples/run-fetch.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Brama, CircuitOpenError, isBramaError, type Classification } from 'brama';

// A local stand-in for a remote API: /ok answers 200, /busy 429, /broken 503, /slow never.
const server = createServer((req, res) => {
  if (req.url === '/slow') return; // never answers
  res.statusCode = req.url === '/ok' ? 200 : req.url === '/busy' ? 429 : 503;
  res.end(JSON.stringify({ path: req.url }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const brama = new Brama();

/** 5xx counts as a failure of the dependency, 429 counts neither way, anything else is a success. */
function classifyResponse(res: Response): Classification {
  if (res.status >= 500) return { failure: `HTTP ${res.status}` };
  if (res.status === 429) return 'ignore';
  return 'success';
}

function getInventory(path: string): Promise<Response> {
  return brama.run('inventory-api', (signal) => fetch(`${baseUrl}${path}`, { signal }), {
    timeout: 500, // aborts `signal` and rejects with BRAMA_TIMEOUT (a failure) after 500 ms
    classify: classifyResponse,
    maxAttempts: 3, // registration options: used when run() registers the connection
    expiry: 10_000,
  });
}

console.log((await getInventory('/ok')).status); // 200: a success, unknown → closed
console.log((await getInventory('/busy')).status); // 429: ignored, counts neither way

// A 5xx still resolves with the Response: classify only decides how it counts.
const broken = await getInventory('/broken');
console.log(broken.status, brama.status('inventory-api').failureCount); // 503 1
await getInventory('/broken'); // failureCount 2

try {
  await getInventory('/slow');
} catch (error) {
  if (isBramaError(error, 'BRAMA_TIMEOUT')) console.log(error.message); // ... within 500 ms
}
console.log(brama.status('inventory-api').state); // 'open': the timeout was the third failure

try {
  await getInventory('/ok'); // not sent: the circuit is open
} catch (error) {
  if (error instanceof CircuitOpenError) {
    console.log(error.code, error.state, error.retryAfterMs); // BRAMA_CIRCUIT_OPEN open 10000 (about)
  }
}

// A call the caller aborts is not counted at all.
const controller = new AbortController();
brama.closeCircuit('inventory-api', { reason: 'demo: closed by hand' });
const pending = brama.run('inventory-api', (signal) => fetch(`${baseUrl}/slow`, { signal }), {
  signal: controller.signal,
});
controller.abort(new Error('user navigated away'));
await pending.catch((error: unknown) => console.log(String(error))); // Error: user navigated away
const { totalSuccesses, totalFailures } = brama.status('inventory-api');
console.log(totalSuccesses, totalFailures); // 1 3: the aborted call left no trace

server.closeAllConnections();
server.close();
