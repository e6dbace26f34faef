import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Brama } from '../brama.js';
import type { Subscription } from '../events/types.js';
import { statusHandler } from './handler.js';
import { serve } from './test-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An open event stream: everything received so far, and a way to wait for more. */
interface Stream {
  readonly res: http.IncomingMessage;
  text(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

function openStream(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/events`, { headers }, (res) => {
      let received = '';
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received += chunk;
        for (const wake of waiters.splice(0)) wake();
      });
      resolve({
        res,
        text: () => received,
        waitFor: (pattern, timeoutMs = 2_000) =>
          new Promise((found, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`no ${pattern} in ${JSON.stringify(received)}`)),
              timeoutMs,
            );
            const check = (): void => {
              const match = pattern.exec(received);
              if (match) {
                clearTimeout(timer);
                found(match[0]);
              } else waiters.push(check);
            };
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

async function setup(options: Parameters<typeof statusHandler>[1] = {}) {
  const brama = new Brama();
  const subscriptions: { unsubscribe: ReturnType<typeof vi.fn> }[] = [];
  const subscribe = brama.subscribe.bind(brama);
  vi.spyOn(brama, 'subscribe').mockImplementation((handler, filter) => {
    const inner: Subscription = subscribe(handler, filter);
    const tracked = { unsubscribe: vi.fn(() => inner.unsubscribe()) };
    subscriptions.push(tracked);
    return tracked;
  });
  const handler = statusHandler(brama, options);
  const server = await serve(handler);
  cleanups.push(
    () => brama.close(),
    () => handler.close(),
    () => server.close(),
  );
  const live = () => subscriptions.filter((s) => s.unsubscribe.mock.calls.length === 0).length;
  return { brama, handler, server, live };
}

describe('GET /events', () => {
  it('streams every event as JSON after the headers and a retry hint', async () => {
    const { brama, server } = await setup();
    brama.register('db', { scope: 'core' });
    const stream = await openStream(server.url);
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.res.headers['cache-control']).toMatch(/no-cache/);
    await stream.waitFor(/^retry: \d+\n/);
    brama.openCircuit('db', { scope: 'core', reason: new Error('maintenance window') });
    await stream.waitFor(/data: \{"type":"circuit_opened".*\n\n/);
    const events = stream
      .text()
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map(
        (frame) => JSON.parse(frame.slice(6)) as { type: string; data: Record<string, unknown> },
      );
    expect(events.map((e) => e.type)).toEqual(['state_change', 'circuit_opened']);
    expect(events[0]).toMatchObject({
      identifier: 'db',
      scope: 'core',
      data: {
        from: 'unknown',
        to: 'open',
        reason: 'maintenance window',
        status: { state: 'open' },
      },
    });
    stream.close();
  });

  it('survives events whose data cannot be JSON.stringify-ed (cycles, BigInt)', async () => {
    const { brama, server } = await setup();
    const stream = await openStream(server.url);
    await stream.waitFor(/retry/);
    const metadata: Record<string, unknown> = { n: 1n };
    metadata.loop = metadata;
    brama.register('weird', { metadata });
    await stream.waitFor(/"type":"registration".*"n":"1".*\n\n/);
    stream.close();
  });

  it('sends a heartbeat comment on the (internal) interval', async () => {
    const { server } = await setup({ heartbeatMs: 20 });
    const stream = await openStream(server.url);
    await stream.waitFor(/: heartbeat\n\n/);
    stream.close();
  });

  it('one subscription for all clients, dropped when the last client disconnects', async () => {
    const { server, live } = await setup();
    expect(live()).toBe(0);
    const a = await openStream(server.url);
    const b = await openStream(server.url);
    await a.waitFor(/retry/);
    await b.waitFor(/retry/);
    expect(live()).toBe(1);
    a.close();
    await vi.waitFor(() => expect(live()).toBe(1));
    b.close();
    await vi.waitFor(() => expect(live()).toBe(0));
  });

  it('handler.close() ends the streams, so a server can close', async () => {
    const { handler, server, live } = await setup();
    const stream = await openStream(server.url);
    await stream.waitFor(/retry/);
    const ended = new Promise((resolve) => stream.res.on('end', resolve));
    handler.close();
    await ended;
    expect(live()).toBe(0);
    await new Promise<void>((resolve) => server.server.close(() => resolve()));
  });

  it('brama.close() ends the streams at the next heartbeat', async () => {
    const { brama, server, live } = await setup({ heartbeatMs: 20 });
    const stream = await openStream(server.url);
    await stream.waitFor(/retry/);
    const ended = new Promise((resolve) => stream.res.on('end', resolve));
    await brama.close();
    await ended;
    expect(live()).toBe(0);
  });

  it('needs the Bearer token (no ?token= on the stream)', async () => {
    const { server } = await setup({ token: 't0k' });
    const denied = await openStream(`${server.url}`);
    expect(denied.res.statusCode).toBe(401);
    denied.close();
    const allowed = await openStream(server.url, { Authorization: 'Bearer t0k' });
    expect(allowed.res.statusCode).toBe(200);
    allowed.close();
  });
});
