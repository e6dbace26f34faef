/**
 * `brama/http`: a status handler with a live dashboard, JSON routes, Server-Sent Events,
 * Prometheus metrics and (opt-in, with a token) control routes.
 *
 * ```ts
 * import http from 'node:http';
 * import { statusHandler } from 'brama/http';
 *
 * http.createServer(statusHandler(brama)).listen(9464, '127.0.0.1');
 * ```
 */
export { statusHandler, type StatusHandler } from './handler.js';
export type { StatusHandlerOptions } from './options.js';
export type { HttpErrorCode } from './respond.js';
export type { ControlAction } from './control.js';
