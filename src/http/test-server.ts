/** Test helper: serves a request listener on 127.0.0.1 (port 0) and closes it again. */
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { Brama } from '../brama.js';
import { statusHandler, type StatusHandler } from './handler.js';

/** A listening server and its base URL. */
export interface TestServer {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Starts `listener` on an ephemeral port of 127.0.0.1. */
export async function serve(listener: RequestListener): Promise<TestServer> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response read to the end. */
export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): unknown;
}

/** One request with `http.request` (raw: any method, path and body). */
export function request(
  url: string,
  opts: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as unknown,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The `Authorization` header of a bearer token. */
export const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * For a test file: `setup(options)` makes a registry (`maxAttempts: 2`), its handler and a
 * server; `cleanups` (run after each test, last first) closes them, and takes more.
 */
export function handlerFixture() {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const setup = async (
    options?: Parameters<typeof statusHandler>[1],
  ): Promise<{ brama: Brama; handler: StatusHandler; server: TestServer }> => {
    const brama = new Brama({ maxAttempts: 2 });
    const handler = statusHandler(brama, options);
    const server = await serve(handler);
    cleanups.push(
      () => brama.close(),
      () => handler.close(),
      () => server.close(),
    );
    return { brama, handler, server };
  };
  return { cleanups, setup };
}
