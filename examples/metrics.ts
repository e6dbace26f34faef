/**
 * Metrics: a Prometheus endpoint for a registry, and the same metrics as OpenTelemetry
 * instruments. Runs offline: `npx tsx examples/metrics.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { Brama } from 'brama';
import { openTelemetry, prometheus } from 'brama/metrics';

const brama = new Brama();
const exporter = prometheus(brama); // counting starts now

const server = createServer((req, res) => {
  if (req.url !== '/metrics') return void res.writeHead(404).end();
  res.setHeader('Content-Type', exporter.contentType);
  res.end(exporter.metrics());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

await brama.run('payments-api', () => 'receipt', { scope: 'billing' });
brama.failure('payments-api', { scope: 'billing', reason: 'ECONNRESET' });

const text = await (await fetch(url)).text();
console.log(text.split('\n').filter((line) => line.startsWith('brama_calls_total')));
// [
//   'brama_calls_total{identifier="payments-api",scope="billing",outcome="success"} 1',
//   'brama_calls_total{identifier="payments-api",scope="billing",outcome="failure"} 1',
//   ... ignored, rejected, timeout: 0
// ]

// OpenTelemetry: pass a Meter (here the API's global one: a no-op until an SDK is registered).
const binding = openTelemetry(brama, metrics.getMeter('checkout'), { maxSeries: 1_000 });

binding.close();
exporter.close();
server.close();
await brama.close();
