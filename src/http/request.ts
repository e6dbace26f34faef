import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond.js';
import { hashToken } from './options.js';

/** The largest request body read (control routes take a few small fields). */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request's route path (mount path already removed, as Express does) and query. */
export interface Target {
  readonly path: string;
  readonly query: URLSearchParams;
}

/**
 * Splits `req.url` into path and query. The path is percent-decoded and loses one trailing
 * slash (`/health/` is `/health`); anything but an origin-form path is a 400.
 */
export function parseTarget(url: string | undefined): Target {
  const raw = url === undefined || url === '' ? '/' : url;
  const mark = raw.indexOf('?');
  const encoded = mark === -1 ? raw : raw.slice(0, mark);
  if (!encoded.startsWith('/')) throw badUrl();
  let path: string;
  try {
    path = decodeURIComponent(encoded);
  } catch {
    throw badUrl();
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const query = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
  return { path, query };
}

function badUrl(): HttpError {
  return new HttpError(400, 'BRAMA_BAD_REQUEST', 'Bad request URL');
}

/**
 * Checks the request's credentials against the token's hash: `Authorization: Bearer <token>`,
 * or (where `queryToken` is allowed: the dashboard page) `?token=<token>`. Throws a 401.
 */
export function authorize(
  req: IncomingMessage,
  query: URLSearchParams,
  tokenHash: Buffer,
  allowQueryToken: boolean,
): void {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  const candidate = match?.[1] ?? (allowQueryToken ? query.get('token') : null);
  // Hashes have equal lengths, so timingSafeEqual compares them in constant time.
  if (candidate !== null && timingSafeEqual(hashToken(candidate), tokenHash)) return;
  throw new HttpError(
    401,
    'BRAMA_UNAUTHORIZED',
    candidate === null
      ? 'Missing credentials: send "Authorization: Bearer <token>"'
      : 'Wrong token',
    { 'WWW-Authenticate': 'Bearer realm="brama"' },
  );
}

/**
 * Reads a JSON object body (at most {@link MAX_BODY_BYTES}). A body a framework already parsed
 * (`req.body`, as `express.json()` or Fastify leave it) is used as it is. Rejects with a 400
 * (not JSON, not an object) or a 413 (too large); resolves `null` when the client went away.
 */
export function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && (req.readableEnded || req.complete)) {
    return Promise.resolve(
      typeof parsed === 'string' || Buffer.isBuffer(parsed)
        ? parseObject(String(parsed))
        : asObject(parsed),
    );
  }
  if (req.readableEnded) {
    // Something before this handler read the stream without leaving a parsed body.
    return Promise.reject(
      new HttpError(400, 'BRAMA_BAD_REQUEST', 'The request body was already consumed'),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      try {
        resolve(parseObject(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    };
    const onGone = (): void => {
      done();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BRAMA_BAD_REQUEST', 'The request body is not valid JSON');
  }
  return asObject(value);
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'BRAMA_BAD_REQUEST', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function tooLarge(): HttpError {
  return new HttpError(
    413,
    'BRAMA_PAYLOAD_TOO_LARGE',
    `The request body is larger than ${MAX_BODY_BYTES} bytes`,
    { Connection: 'close' },
  );
}
