import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Brama } from '../brama.js';
import { statusHandler } from './handler.js';
import { MAX_BODY_BYTES } from './request.js';
import { auth, handlerFixture, request, serve } from './test-server.js';

const { cleanups, setup } = handlerFixture();

describe('control routes', () => {
  it('open, close and reset with reason and expiry answer the status', async () => {
    const { brama, server } = await setup({ token: 't', control: true });
    brama.register('db', { scope: 'core' });
    const post = (action: string, body: unknown) =>
      request(server.url, {
        method: 'POST',
        path: `/connections/${action}`,
        headers: { ...auth('t'), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    let reply = await post('open', {
      identifier: 'db',
      scope: 'core',
      reason: 'maintenance',
      expiry: 5_000,
    });
    expect(reply.status).toBe(200);
    const opened = reply.json() as { state: string; openUntil: number; openedAt: number };
    expect(opened).toMatchObject({ identifier: 'db', scope: 'core', state: 'open' });
    expect(opened.openUntil - opened.openedAt).toBe(5_000);
    reply = await post('close', { identifier: 'db', scope: 'core', reason: 'done' });
    expect(reply.json()).toMatchObject({ state: 'closed' });
    brama.openCircuit('db', { scope: 'core' });
    reply = await post('reset', { identifier: 'db', scope: 'core' });
    expect(reply.status).toBe(200);
    expect(brama.status('db', { scope: 'core' }).state).toBe('closed');
  });

  it('bad bodies: 400; too large: 413; unknown connection: 404', async () => {
    const { brama, server } = await setup({ token: 't', control: true });
    brama.register('db');
    const post = (body: string, action = 'open') =>
      request(server.url, {
        method: 'POST',
        path: `/connections/${action}`,
        headers: auth('t'),
        body,
      });
    const bad = [
      'not json',
      '',
      '[]',
      '"db"',
      JSON.stringify({ identifier: 1 }),
      JSON.stringify({ identifier: '' }),
      JSON.stringify({ identifier: 'db', scope: 5 }),
      JSON.stringify({ identifier: 'db', reason: {} }),
      JSON.stringify({ identifier: 'db', expiry: '5' }),
      JSON.stringify({ identifier: 'db', extra: true }),
      JSON.stringify({ identifier: 'db', expiry: -1 }),
    ];
    for (const body of bad) {
      const reply = await post(body);
      expect(reply.status, body).toBe(400);
      const error = reply.json() as { code: string; message: string };
      expect(error.code, body).toMatch(/^BRAMA_(BAD_REQUEST|INVALID_OPTION)$/);
      expect(error.message).not.toMatch(/\n\s+at /);
    }
    const expiryOnClose = await post(JSON.stringify({ identifier: 'db', expiry: 5 }), 'close');
    expect(expiryOnClose.status).toBe(400);
    const large = await post(
      JSON.stringify({ identifier: 'db', reason: 'x'.repeat(MAX_BODY_BYTES) }),
    );
    expect(large.status).toBe(413);
    expect(large.json()).toMatchObject({ code: 'BRAMA_PAYLOAD_TOO_LARGE' });
    const ghost = await post(JSON.stringify({ identifier: 'ghost' }));
    expect(ghost.status).toBe(404);
    expect(ghost.json()).toMatchObject({ code: 'BRAMA_NOT_FOUND' });
    expect(brama.status('db').state).toBe('unknown');
  });

  it('a streamed body over the cap (no Content-Length) is refused', async () => {
    const { brama, server } = await setup({ token: 't', control: true });
    brama.register('db');
    const reply = await request(server.url, {
      method: 'POST',
      path: '/connections/open',
      headers: { ...auth('t'), 'Transfer-Encoding': 'chunked' },
      body: 'x'.repeat(MAX_BODY_BYTES + 10),
    });
    expect(reply.status).toBe(413);
  });

  it('without control: 404; GET on a control route: 405', async () => {
    const plain = await setup({ token: 't' });
    plain.brama.register('db');
    const reply = await request(plain.server.url, {
      method: 'POST',
      path: '/connections/open',
      headers: auth('t'),
      body: JSON.stringify({ identifier: 'db' }),
    });
    expect(reply.status).toBe(404);
    expect(plain.brama.status('db').state).toBe('unknown');
    const enabled = await setup({ token: 't', control: true });
    const get = await request(enabled.server.url, {
      path: '/connections/open',
      headers: auth('t'),
    });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const other = await request(enabled.server.url, {
      method: 'POST',
      path: '/connections/explode',
      headers: auth('t'),
    });
    expect(other.status).toBe(404);
  });

  it('uses a body a framework already parsed (express.json(), Fastify)', async () => {
    const brama = new Brama();
    const handler = statusHandler(brama, { token: 't', control: true });
    const server = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        Object.assign(req, { body: { identifier: 'db', reason: 'parsed' } });
        handler(req, res, () => undefined);
      });
    });
    cleanups.push(
      () => brama.close(),
      () => handler.close(),
      () => server.close(),
    );
    brama.register('db');
    const reply = await request(server.url, {
      method: 'POST',
      path: '/connections/open',
      headers: auth('t'),
      body: 'ignored',
    });
    expect(reply.status).toBe(200);
    expect(brama.status('db').state).toBe('open');
  });
  it('a body another middleware consumed without parsing it: 400, not a hang', async () => {
    const brama = new Brama();
    const handler = statusHandler(brama, { token: 't', control: true });
    const server = await serve((req, res) => {
      req.resume();
      req.on('end', () => handler(req, res));
    });
    cleanups.push(
      () => brama.close(),
      () => handler.close(),
      () => server.close(),
    );
    brama.register('db');
    const reply = await request(server.url, {
      method: 'POST',
      path: '/connections/open',
      headers: auth('t'),
      body: JSON.stringify({ identifier: 'db' }),
    });
    expect(reply.status).toBe(400);
    expect(brama.status('db').state).toBe('unknown');
  });
});

describe('mounting', () => {
  it('under an Express-like prefix (the mount path stripped from req.url), next ignored', async () => {
    const brama = new Brama();
    const handler = statusHandler(brama);
    let nextCalls = 0;
    const server = await serve((req, res) => {
      const mount = '/ops/brama';
      if (
        req.url === mount ||
        req.url?.startsWith(`${mount}/`) ||
        req.url?.startsWith(`${mount}?`)
      ) {
        req.url = req.url.slice(mount.length) || '/';
        if (req.url.startsWith('?')) req.url = `/${req.url}`;
        handler(req, res, () => nextCalls++);
        return;
      }
      res.writeHead(418).end();
    });
    cleanups.push(
      () => brama.close(),
      () => handler.close(),
      () => server.close(),
    );
    brama.register('db');
    expect((await request(server.url, { path: '/ops/brama' })).status).toBe(200);
    expect((await request(server.url, { path: '/ops/brama/?scope=a' })).status).toBe(200);
    const list = await request(server.url, { path: '/ops/brama/connections' });
    expect(list.json()).toMatchObject([{ identifier: 'db' }]);
    expect((await request(server.url, { path: '/ops/brama/nope' })).status).toBe(404);
    expect((await request(server.url, { path: '/elsewhere' })).status).toBe(418);
    expect(nextCalls).toBe(0);
  });

  it('Fastify raw style: handler(request.raw, reply.raw) with plain node objects', async () => {
    const brama = new Brama();
    const handler = statusHandler(brama);
    const fastifyLike = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse }) =>
      handler(request.raw, reply.raw);
    const server = await serve((req, res) => {
      req.url = (req.url ?? '/').replace(/^\/brama/, '') || '/';
      fastifyLike({ raw: req }, { raw: res });
    });
    cleanups.push(
      () => brama.close(),
      () => handler.close(),
      () => server.close(),
    );
    brama.register('db');
    expect((await request(server.url, { path: '/brama/health' })).json()).toMatchObject({
      status: 'ok',
    });
  });

  it('never throws into the server: an exploding response still gets handled', () => {
    const brama = new Brama();
    cleanups.push(() => brama.close());
    const handler = statusHandler(brama);
    const res = {
      headersSent: false,
      writeHead() {
        throw new Error('boom');
      },
      destroy() {
        this.destroyed = true;
      },
      destroyed: false,
    };
    expect(() =>
      handler({ url: '/health', method: 'GET', headers: {} } as IncomingMessage, res as never),
    ).not.toThrow();
    expect(res.destroyed).toBe(true);
  });
});
