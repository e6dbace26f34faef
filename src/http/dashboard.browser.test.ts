/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core).
 * In CI (`CI` set) a missing browser fails the file; elsewhere the file is skipped with a note.
 */
import { existsSync } from 'node:fs';
import process from 'node:process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Brama } from '../brama.js';
import { MemoryStore } from '../stores/memory-store.js';
import type { StoreHost } from '../stores/store.js';
import { statusHandler } from './handler.js';
import type { StatusHandlerOptions } from './options.js';
import { serve } from './test-server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const XSS = '<img src=x onerror=window.__xss=1>';

if (!haveChromium && !process.env.CI) {
  process.stdout.write(
    `dashboard.browser.test.ts: skipped, ${CHROMIUM} is missing ` +
      '(apt-get install chromium; in CI this file fails instead)\n',
  );
}

interface Card {
  identifier: string | null;
  scope: string | null;
  state: string | null;
  hidden: boolean;
  text: string;
}

// Browser-side code is passed as strings: this project compiles without the DOM library.
const CARDS = `Array.from(document.querySelectorAll('[data-identifier]'), (el) => ({
  identifier: el.getAttribute('data-identifier'),
  scope: el.getAttribute('data-scope'),
  state: el.getAttribute('data-state'),
  hidden: el.hidden,
  text: el.textContent,
}))`;

function cards(page: Page): Promise<Card[]> {
  return page.evaluate<Card[]>(CARDS);
}

/** Waits until the page shows `count` connections. */
function showing(page: Page, count: number): Promise<unknown> {
  return page.waitForFunction(`document.querySelectorAll('[data-identifier]').length === ${count}`);
}

// In CI the tests run whatever: without the browser, beforeAll fails them all.
describe.runIf(haveChromium || Boolean(process.env.CI))('dashboard in Chromium', () => {
  let browser: Browser;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A registry, its handler on a server, and a page recording requests and console errors. */
  async function open(options?: StatusHandlerOptions) {
    const brama = new Brama({ maxAttempts: 3 });
    const handler = statusHandler(brama, options);
    const server = await serve(handler);
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    cleanups.push(
      () => brama.close(),
      () => server.close(),
      () => handler.close(),
      () => context.close(),
    );
    const goto = async (path = '/') => {
      const response = await page.goto(`${server.url}${path}`);
      return response?.status();
    };
    const live = () => page.waitForSelector('#live[data-live="on"]', { timeout: 5_000 });
    return { brama, server, page, requests, errors, goto, live };
  }

  it('loads without external requests or console errors and shows every connection', async () => {
    const { brama, server, page, requests, errors, goto, live } = await open();
    brama.register('payments', { scope: 'billing' });
    brama.register('search');
    brama.failure('payments', { scope: 'billing', reason: 'ECONNREFUSED' });
    expect(await goto()).toBe(200);
    await live();
    await showing(page, 2);
    const shown = await cards(page);
    expect(shown).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identifier: 'payments', scope: 'billing', state: 'closed' }),
        expect.objectContaining({ identifier: 'search', scope: '', state: 'unknown' }),
      ]),
    );
    expect(shown.find((c) => c.identifier === 'payments')?.text).toContain('ECONNREFUSED');
    expect(await page.textContent('#health')).toContain('ok');
    expect(await page.textContent('#store')).toContain('healthy');
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(url.startsWith(`${server.url}/`), url).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows an opened circuit within a second, with the transition in the strip', async () => {
    const { brama, page, errors, goto, live } = await open();
    brama.register('db');
    brama.success('db');
    await goto();
    await live();
    await page.waitForSelector('[data-identifier="db"][data-state="closed"]');
    const started = Date.now();
    brama.openCircuit('db', { reason: 'maintenance' });
    await page.waitForSelector('[data-identifier="db"][data-state="open"]', { timeout: 1_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    await page.waitForSelector('#transitions li');
    expect(await page.textContent('#transitions li')).toContain('maintenance');
    brama.register('late', { scope: 'new' });
    await page.waitForSelector('[data-identifier="late"]', { timeout: 1_000 });
    brama.unregister('late', { scope: 'new' });
    await page.waitForSelector('[data-identifier="late"]', { state: 'detached', timeout: 1_000 });
    expect(errors).toEqual([]);
  });

  it('filters by scope with the select and with ?scope=', async () => {
    const { brama, page, errors, goto, live } = await open();
    brama.register('a', { scope: 'billing' });
    brama.register('b', { scope: 'search' });
    brama.register('c');
    const visible = async () =>
      (await cards(page))
        .filter((c) => !c.hidden)
        .map((c) => c.identifier)
        .sort();
    await goto();
    await live();
    await showing(page, 3);
    expect(await visible()).toEqual(['a', 'b', 'c']);
    await page.selectOption('#scope', { label: 'billing' });
    expect(await visible()).toEqual(['a']);
    expect(page.url()).toMatch(/\?scope=billing$/);
    await page.selectOption('#scope', { label: '(no scope)' });
    expect(await visible()).toEqual(['c']);
    await page.selectOption('#scope', { label: 'All scopes' });
    expect(await visible()).toEqual(['a', 'b', 'c']);

    await goto('/?scope=search');
    await live();
    await showing(page, 3);
    expect(await visible()).toEqual(['b']);
    expect(
      await page.evaluate<string>(`document.getElementById('scope').selectedOptions[0].text`),
    ).toBe('search');
    expect(errors).toEqual([]);
  });

  it('shows hostile identifiers, scopes and reasons as text without running them', async () => {
    const { brama, page, errors, goto, live } = await open();
    brama.register(XSS, { scope: XSS, metadata: { note: XSS } });
    brama.failure(XSS, { scope: XSS, reason: XSS });
    await goto();
    await live();
    await page.waitForSelector('[data-identifier]');
    brama.openCircuit(XSS, { scope: XSS, reason: XSS });
    await page.waitForSelector('#transitions li');
    await page.waitForSelector('.conn[data-state="open"]');
    const [card] = await cards(page);
    expect(card).toMatchObject({ identifier: XSS, scope: XSS, state: 'open' });
    expect(await page.textContent('.conn .ident')).toBe(XSS);
    expect(await page.textContent('.conn .reason')).toContain(XSS);
    expect(await page.textContent('#transitions li')).toContain(XSS);
    expect(
      await page.evaluate<string[]>(
        `Array.from(document.getElementById('scope').options, (o) => o.text)`,
      ),
    ).toContain(XSS);
    expect(await page.evaluate<unknown>('window.__xss')).toBeUndefined();
    expect(await page.evaluate<number>(`document.querySelectorAll('img').length`)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows the store going degraded and recovering (fleet mode events)', async () => {
    /** A memory store that can report its backend lost, as the Redis store does. */
    class FlakyStore extends MemoryStore {
      link: StoreHost | null = null;
      override attach(host: StoreHost): void {
        super.attach(host);
        this.link = host;
      }
    }
    const store = new FlakyStore();
    const brama = new Brama({ store });
    const handler = statusHandler(brama);
    const server = await serve(handler);
    const context = await browser.newContext();
    cleanups.push(
      () => brama.close(),
      () => server.close(),
      () => handler.close(),
      () => context.close(),
    );
    const page = await context.newPage();
    brama.register('db');
    await page.goto(server.url);
    await page.waitForSelector('#live[data-live="on"]', { timeout: 5_000 });
    await page.waitForSelector('#store[data-status="ok"]');
    store.link!.degraded(true, new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    await page.waitForSelector('#store[data-status="degraded"]', { timeout: 1_000 });
    expect(await page.textContent('#store')).toContain('degraded');
    expect(await page.textContent('#health')).toContain('degraded');
    store.link!.degraded(false, null);
    await page.waitForSelector('#store[data-status="ok"]', { timeout: 1_000 });
  });

  it('works mounted under a path, with or without a trailing slash', async () => {
    const brama = new Brama();
    const handler = statusHandler(brama);
    const mount = '/ops/brama';
    // What Express does for app.use('/ops/brama', handler): req.url loses the mount path.
    const server = await serve((req, res) => {
      const url = req.url ?? '/';
      if (url !== mount && !url.startsWith(`${mount}/`) && !url.startsWith(`${mount}?`)) {
        res.writeHead(404).end();
        return;
      }
      const rest = url.slice(mount.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      handler(req, res);
    });
    const context = await browser.newContext();
    cleanups.push(
      () => brama.close(),
      () => server.close(),
      () => handler.close(),
      () => context.close(),
    );
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    brama.register('db');
    for (const path of [mount, `${mount}/`]) {
      await page.goto(`${server.url}${path}`);
      await page.waitForSelector('#live[data-live="on"]', { timeout: 5_000 });
      await page.waitForSelector('[data-identifier="db"]');
    }
    for (const path of requests) expect(path.startsWith(mount), path).toBe(true);
    expect(requests).toContain(`${mount}/events`);
  });

  it('with a token: the page works from ?token=, and refuses without it', async () => {
    const { brama, page, errors, goto, live } = await open({ token: 'tok-123' });
    brama.register('db');
    expect(await goto('/?token=tok-123')).toBe(200);
    await live();
    await page.waitForSelector('[data-identifier="db"][data-state="unknown"]');
    brama.openCircuit('db');
    await page.waitForSelector('[data-identifier="db"][data-state="open"]', { timeout: 1_000 });
    expect(errors).toEqual([]);
    expect(await goto('/')).toBe(401);
  });
});
