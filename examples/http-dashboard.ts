/**
 * brama/http: the status handler on node:http, with a token and the control routes.
 * Run with `npx tsx examples/http-dashboard.ts`; with `--serve` it keeps running and prints the
 * dashboard's address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import process from 'node:process';
import { Brama } from 'brama';
import { statusHandler } from 'brama/http';

const brama = new Brama();
brama.register('postgres', { scope: 'core' });
brama.register('payments-api', { scope: 'billing' });

const token = process.env.BRAMA_STATUS_TOKEN ?? 'change-me';
const handler = statusHandler(brama, { token, control: true, critical: ['postgres'] });
const server = http.createServer(handler);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const headers = { Authorization: `Bearer ${token}` };
console.log('health:', (await fetch(`${base}/health`, { headers })).status); // 200

// An operator opens a circuit for a maintenance window of 5 minutes.
const opened = await fetch(`${base}/connections/open`, {
  method: 'POST',
  headers: { ...headers, 'Content-Type': 'application/json' },
  body: JSON.stringify({
    identifier: 'postgres',
    scope: 'core',
    reason: 'upgrade',
    expiry: 300_000,
  }),
});
console.log('open:', opened.status, ((await opened.json()) as { state: string }).state); // 200 open
console.log('health:', (await fetch(`${base}/health`, { headers })).status); // 503: critical is open

if (process.argv.includes('--serve')) {
  console.log(`dashboard: ${base}/?token=${encodeURIComponent(token)}`);
} else {
  handler.close(); // ends open event streams
  server.close();
  await brama.close();
}
