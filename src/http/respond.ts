import type { IncomingMessage, ServerResponse } from 'node:http';
import { toJson } from './json.js';

/**
 * Codes of the JSON errors the handler answers with (`{ code, message }`): brama's own codes
 * where one fits (`BRAMA_NOT_FOUND` for an unknown connection, `BRAMA_INVALID_ARGUMENT` and
 * `BRAMA_INVALID_OPTION` for values brama refuses, `BRAMA_CLOSED`), and these for HTTP itself.
 */
export type HttpErrorCode =
  | 'BRAMA_BAD_REQUEST'
  | 'BRAMA_UNAUTHORIZED'
  | 'BRAMA_ROUTE_NOT_FOUND'
  | 'BRAMA_METHOD_NOT_ALLOWED'
  | 'BRAMA_PAYLOAD_TOO_LARGE'
  | 'BRAMA_INTERNAL_ERROR';

/** An error answer: its status, code, message and extra headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const BASE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

/** Writes a complete response; a HEAD request gets the headers only. */
export function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': contentType,
    'Content-Length': String(bytes.length),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** Writes `value` as JSON (through the safe serializer). */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
): void {
  send(req, res, status, 'application/json; charset=utf-8', toJson(value));
}

/** Writes an error as JSON `{ code, message }`. */
export function sendError(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  const body = toJson({ code: error.code, message: error.message });
  send(req, res, error.status, 'application/json; charset=utf-8', body, error.headers);
}
