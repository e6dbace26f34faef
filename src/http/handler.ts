/**
 * `statusHandler(brama, options?)`: one `(req, res)` function that serves the dashboard, the
 * JSON routes, the event stream, the metrics and (opt-in) the control routes. It resolves
 * routes against `req.url` as given, so it works as `http.createServer(handler)`, as Express
 * middleware (Express strips the mount path) and behind Fastify's raw request and reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Brama } from '../brama.js';
import { describe, invalidArgument } from '../core/errors.js';
import { isBramaError } from '../core/is-brama-error.js';
import { isBrama } from '../is-brama.js';
import { applyControl, isControlAction, readControlBody, type ControlAction } from './control.js';
import { sendDashboard } from './dashboard-page.js';
import { MetricsRoute } from './metrics-route.js';
import { parseHandlerOptions, type HandlerSettings, type StatusHandlerOptions } from './options.js';
import { authorize, parseTarget, readJsonBody } from './request.js';
import { HttpError, send, sendError, sendJson } from './respond.js';
import { EventHub } from './sse.js';

/**
 * A request handler for `node:http` (also Express middleware: a third `next` argument is
 * accepted and never called, since every route answers), with `close()` to end its streams.
 */
export interface StatusHandler {
  (req: IncomingMessage, res: ServerResponse, next?: unknown): void;
  /**
   * Ends every open event stream and releases the handler's event subscription and metrics
   * exporter; later requests get 503 `BRAMA_CLOSED`. Idempotent.
   */
  close(): void;
}

const READ_ROUTES: ReadonlySet<string> = new Set([
  '/',
  '/health',
  '/connections',
  '/events',
  '/metrics',
]);
const CONTROL_PREFIX = '/connections/';

/**
 * Creates the HTTP handler of `brama/http` for a registry. Throws `BRAMA_INVALID_OPTION` for a
 * bad option (`control: true` without a `token` included).
 * @example http.createServer(statusHandler(brama, { critical: ['postgres'] })).listen(9464)
 */
export function statusHandler(brama: Brama, options?: StatusHandlerOptions): StatusHandler {
  if (!isBrama(brama)) throw invalidArgument('brama', 'a Brama registry', brama);
  const settings = parseHandlerOptions(options);
  const hub = new EventHub(brama, settings.heartbeatMs);
  const metrics = new MetricsRoute(brama);
  let closed = false;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      if (closed) throw new HttpError(503, 'BRAMA_CLOSED', 'This status handler is closed');
      const pending = dispatch(brama, settings, hub, metrics, req, res);
      if (pending !== undefined) pending.catch((error: unknown) => fail(req, res, error));
    } catch (error) {
      fail(req, res, error);
    }
  };
  return Object.assign(handler, {
    close(): void {
      if (closed) return;
      closed = true;
      hub.close();
      metrics.close();
    },
  });
}

function dispatch(
  brama: Brama,
  settings: HandlerSettings,
  hub: EventHub,
  metrics: MetricsRoute,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> | undefined {
  const { path, query } = parseTarget(req.url);
  // Only the page may carry the token in its address; it sends the header on every request.
  if (settings.tokenHash !== null) authorize(req, query, settings.tokenHash, path === '/');
  const method = req.method ?? 'GET';

  if (path.startsWith(CONTROL_PREFIX)) {
    const action = path.slice(CONTROL_PREFIX.length);
    if (!settings.control || !isControlAction(action)) throw routeNotFound(path);
    if (method !== 'POST') throw methodNotAllowed(method, 'POST');
    return control(brama, action, req, res);
  }
  if (!READ_ROUTES.has(path)) throw routeNotFound(path);
  if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, 'GET, HEAD');

  switch (path) {
    case '/':
      sendDashboard(req, res);
      return;
    case '/health': {
      const report = brama.health({ critical: settings.critical });
      sendJson(req, res, report.status === 'down' ? 503 : 200, report);
      return;
    }
    case '/connections':
      sendJson(req, res, 200, brama.list());
      return;
    case '/events':
      if (method === 'HEAD') send(req, res, 200, 'text/event-stream; charset=utf-8', '');
      else hub.open(req, res);
      return;
    default: {
      const { contentType, text } = metrics.render();
      send(req, res, 200, contentType, text);
      return;
    }
  }
}

async function control(
  brama: Brama,
  action: ControlAction,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readJsonBody(req);
  if (body === null) return; // the client went away
  const status = applyControl(brama, action, readControlBody(action, body));
  sendJson(req, res, 200, status);
}

/** Answers an error as JSON; never throws, never leaks a stack trace. */
function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  try {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(req, res, toHttpError(error));
  } catch {
    res.destroy();
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isBramaError(error)) {
    switch (error.code) {
      case 'BRAMA_NOT_FOUND':
        return new HttpError(404, error.code, error.message);
      case 'BRAMA_INVALID_ARGUMENT':
      case 'BRAMA_INVALID_OPTION':
        return new HttpError(400, error.code, error.message);
      case 'BRAMA_CLOSED':
      case 'BRAMA_STORE_UNAVAILABLE':
        return new HttpError(503, error.code, error.message);
      default:
        break;
    }
  }
  return new HttpError(500, 'BRAMA_INTERNAL_ERROR', 'Internal error');
}

function routeNotFound(path: string): HttpError {
  return new HttpError(404, 'BRAMA_ROUTE_NOT_FOUND', `No route ${describe(path)}`);
}

function methodNotAllowed(method: string, allow: string): HttpError {
  return new HttpError(
    405,
    'BRAMA_METHOD_NOT_ALLOWED',
    `Method ${JSON.stringify(method)} not allowed here (allowed: ${allow})`,
    { Allow: allow },
  );
}
