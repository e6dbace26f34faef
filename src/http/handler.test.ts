import { describe, expect, it } from 'vitest';
import { Brama } from '../brama.js';
import { isBramaError } from '../core/is-brama-error.js';
import { statusHandler } from './handler.js';
import { auth, handlerFixture, request } from './test-server.js';

const { cleanups, setup } = handlerFixture();

describe('statusHandler options', () => {
  it('validates at creation with BRAMA_INVALID_OPTION', () => {
    const brama = new Brama();
    cleanups.push(() => brama.close());
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isBramaError(error) ? error.code : 'other';
      }
      return 'none';
    };
    expect(code(() => statusHandler(brama, { control: true }))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => statusHandler(brama, { token: '' }))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => statusHandler(brama, { token: 'has space' }))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => statusHandler(brama, { control: 'yes' as never }))).toBe(
      'BRAMA_INVALID_OPTION',
    );
    expect(code(() => statusHandler(brama, { critical: [1] as never }))).toBe(
      'BRAMA_INVALID_OPTION',
    );
    expect(code(() => statusHandler(brama, { tokn: 'x' } as never))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => statusHandler({} as Brama))).toBe('BRAMA_INVALID_ARGUMENT');
    expect(code(() => statusHandler(brama, { token: 't', control: true }))).toBe('none');
  });

  it('does not keep the caller’s critical array', async () => {
    const critical = ['db'];
    const { brama, server } = await setup({ critical });
    brama.register('db');
    brama.register('cache');
    critical[0] = 'cache';
    brama.openCircuit('db');
    expect((await request(server.url, { path: '/health' })).status).toBe(503);
  });
});

describe('read routes', () => {
  it('GET /health: 200 with the report, 503 when a critical connection is down', async () => {
    const { brama, server } = await setup({ critical: ['db'] });
    brama.register('db', { scope: 'core' });
    brama.register('cache');
    let reply = await request(server.url, { path: '/health' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.json()).toEqual({
      status: 'ok',
      storeDegraded: false,
      connections: expect.arrayContaining([
        { identifier: 'db', scope: 'core', state: 'unknown', critical: true },
        { identifier: 'cache', scope: null, state: 'unknown', critical: false },
      ]) as unknown,
    });
    brama.openCircuit('cache');
    reply = await request(server.url, { path: '/health' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ status: 'degraded' });
    brama.openCircuit('db', { scope: 'core' });
    reply = await request(server.url, { path: '/health' });
    expect(reply.status).toBe(503);
    expect(reply.json()).toMatchObject({ status: 'down' });
  });

  it('GET /connections: the statuses as JSON, metadata of any shape included', async () => {
    const { brama, server } = await setup();
    const metadata: Record<string, unknown> = { big: 10n, team: 'checkout' };
    metadata.self = metadata;
    brama.register('payments', { scope: 'billing', metadata });
    brama.failure('payments', { scope: 'billing', reason: new Error('ECONNREFUSED') });
    const reply = await request(server.url, { path: '/connections' });
    expect(reply.status).toBe(200);
    const list = reply.json() as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      identifier: 'payments',
      scope: 'billing',
      state: 'closed',
      failureCount: 1,
      lastFailureReason: 'Error: ECONNREFUSED',
    });
    expect(list[0]!.metadata).toMatchObject({ big: '10', team: 'checkout' });
  });

  it('GET /: the page, self-contained, with a strict Content-Security-Policy', async () => {
    const { server } = await setup();
    const reply = await request(server.url, { path: '/' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(reply.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(reply.text).not.toMatch(/https?:\/\//);
  });

  it('GET /metrics: Prometheus text from one exporter attached on the first scrape', async () => {
    const { brama, handler, server } = await setup();
    brama.register('db', { scope: 'core' });
    let reply = await request(server.url, { path: '/metrics' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.text).toContain(
      'brama_connection_state{identifier="db",scope="core",state="unknown"} 1',
    );
    brama.failure('db', { scope: 'core' });
    reply = await request(server.url, { path: '/metrics' });
    expect(reply.text).toMatch(
      /brama_calls_total\{identifier="db",scope="core",outcome="failure"\} 1/,
    );
    handler.close();
    expect((await request(server.url, { path: '/metrics' })).status).toBe(503);
  });

  it('HEAD answers like GET without a body; a trailing slash is the same route', async () => {
    const { server } = await setup();
    const head = await request(server.url, { method: 'HEAD', path: '/health' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect((await request(server.url, { path: '/connections/' })).status).toBe(200);
  });

  it('unknown routes: 404 JSON; other methods: 405 with Allow', async () => {
    const { server } = await setup();
    let reply = await request(server.url, { path: '/nope?x=1' });
    expect(reply.status).toBe(404);
    expect(reply.json()).toMatchObject({ code: 'BRAMA_ROUTE_NOT_FOUND' });
    reply = await request(server.url, { method: 'DELETE', path: '/health' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, HEAD');
    expect(reply.json()).toMatchObject({ code: 'BRAMA_METHOD_NOT_ALLOWED' });
    reply = await request(server.url, { method: 'POST', path: '/connections' });
    expect(reply.status).toBe(405);
  });

  it('a bad URL is a 400 JSON error, not a crash', async () => {
    const { server } = await setup();
    for (const path of ['/%E0%A4%A', '*']) {
      const reply = await request(server.url, { path, method: path === '*' ? 'OPTIONS' : 'GET' });
      expect(reply.status, path).toBe(400);
      expect(reply.json()).toMatchObject({ code: 'BRAMA_BAD_REQUEST' });
    }
  });

  it('after close(): 503 BRAMA_CLOSED; a closed registry: 503 too', async () => {
    const { brama, handler, server } = await setup();
    await brama.close();
    let reply = await request(server.url, { path: '/connections' });
    expect(reply.status).toBe(503);
    expect(reply.json()).toMatchObject({ code: 'BRAMA_CLOSED' });
    handler.close();
    reply = await request(server.url, { path: '/' });
    expect(reply.status).toBe(503);
  });
});

describe('token', () => {
  it('every route needs the Bearer token: 401 without or with a wrong one', async () => {
    const { server } = await setup({ token: 's3cret' });
    for (const path of ['/', '/health', '/connections', '/events', '/metrics', '/nope']) {
      const missing = await request(server.url, { path });
      expect(missing.status, path).toBe(401);
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(missing.json()).toMatchObject({ code: 'BRAMA_UNAUTHORIZED' });
      const wrong = await request(server.url, { path, headers: auth('s3creT') });
      expect(wrong.status, path).toBe(401);
      expect(wrong.json()).toMatchObject({ code: 'BRAMA_UNAUTHORIZED', message: 'Wrong token' });
    }
    const ok = await request(server.url, { path: '/health', headers: auth('s3cret') });
    expect(ok.status).toBe(200);
    const lower = await request(server.url, {
      path: '/health',
      headers: { authorization: 'bearer s3cret' },
    });
    expect(lower.status).toBe(200);
  });

  it('?token= is accepted by the page only', async () => {
    const { server } = await setup({ token: 's3cret' });
    expect((await request(server.url, { path: '/?token=s3cret' })).status).toBe(200);
    expect((await request(server.url, { path: '/?token=nope' })).status).toBe(401);
    expect((await request(server.url, { path: '/health?token=s3cret' })).status).toBe(401);
  });
});
