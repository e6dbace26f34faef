/**
 * Renders the dashboard of `brama/http` into docs/dashboard.png (every scope) and
 * docs/dashboard-scope.png (`?scope=billing`) with headless Chromium:
 *
 *   npx tsx demo/screenshot-dashboard.ts
 *
 * Needs /usr/bin/chromium (Debian: `apt-get install chromium`), or CHROMIUM=/path/to/chrome.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Brama } from '../src/index.js';
import { statusHandler } from '../src/http/index.js';
import { setState } from '../src/testing/index.js';

const docs = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'docs');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const brama = new Brama({ maxAttempts: 5, expiry: 60_000 });
const outcomes = (identifier: string, scope: string | null, ok: number, failed: number) => {
  for (let i = 0; i < ok + failed; i++) {
    if (i % Math.max(1, Math.round((ok + failed) / Math.max(1, failed))) === 0 && failed-- > 0) {
      brama.failure(identifier, { scope, reason: 'HTTP 502 Bad Gateway' });
    } else brama.success(identifier, { scope });
  }
};

brama.register('payments-api', { scope: 'billing' });
brama.register('ledger-db', { scope: 'billing' });
brama.register('search', { scope: 'catalog' });
brama.register('recommendations', {
  scope: 'catalog',
  tripPolicy: 'rate',
  failureRateThreshold: 0.5,
  minimumCalls: 10,
});
brama.register('inventory', { scope: 'catalog' });
brama.register('redis-cache');
brama.register('email-provider', { scope: 'notifications' });

outcomes('payments-api', 'billing', 1_180, 20);
outcomes('ledger-db', 'billing', 5_400, 3);
outcomes('search', 'catalog', 830, 41);
outcomes('recommendations', 'catalog', 64, 14);
outcomes('inventory', 'catalog', 2_210, 2);
brama.failure('inventory', { scope: 'catalog', reason: 'query timeout after 2000 ms' });
brama.success('inventory', { scope: 'catalog' });
outcomes('redis-cache', null, 9_020, 0);

const handler = statusHandler(brama, { critical: ['ledger-db'] });
const server = http.createServer(handler);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(url);
  await page.waitForSelector('#live[data-live="on"]');
  // Transitions while the page watches, so the strip has something to show.
  for (let i = 0; i < 5; i++) {
    brama.failure('payments-api', {
      scope: 'billing',
      reason: 'connect ECONNREFUSED 10.0.3.12:443',
    });
  }
  setState(brama, 'search', 'open', { scope: 'catalog' });
  setState(brama, 'search', 'half_open', { scope: 'catalog' });
  brama.openCircuit('redis-cache', { reason: 'failover to replica', expiry: 5_000 });
  brama.closeCircuit('redis-cache', { reason: 'replica promoted' });
  await page.waitForSelector('[data-identifier="payments-api"][data-state="open"]');
  await new Promise((resolve) => setTimeout(resolve, 2_200));
  await page.screenshot({ path: join(docs, 'dashboard.png'), fullPage: true });
  await page.goto(`${url}?scope=billing`);
  await page.waitForSelector('#live[data-live="on"]');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await page.screenshot({ path: join(docs, 'dashboard-scope.png'), fullPage: true });
  process.stdout.write(`wrote ${join(docs, 'dashboard.png')} and dashboard-scope.png\n`);
} finally {
  await browser.close();
  handler.close();
  server.close();
  await brama.close();
}
