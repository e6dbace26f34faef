/**
 * `GET /events`: Server-Sent Events. One hub per handler holds one brama subscription for all
 * its clients (taken with the first client, dropped with the last), serializes each event once,
 * and keeps the streams alive with a heartbeat comment from one shared `unref()`'d timer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Brama } from '../brama.js';
import { isBramaError } from '../core/is-brama-error.js';
import type { BramaEvent, Subscription } from '../events/types.js';
import { toJson } from './json.js';

/** A client that has this many bytes waiting (it stopped reading) is disconnected. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Tells EventSource clients how long to wait before reconnecting. */
const RETRY_MS = 2_000;

/** The live event streams of one handler. */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private subscription: Subscription | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly brama: Brama,
    private readonly heartbeatMs: number,
  ) {}

  /** How many streams are open. */
  get size(): number {
    return this.clients.size;
  }

  /** Starts a stream on `res`; throws (before writing anything) when brama is closed. */
  open(req: IncomingMessage, res: ServerResponse): void {
    this.subscription ??= this.brama.subscribe((event) => this.broadcast(event));
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Content-Type-Options': 'nosniff',
      // nginx and similar proxies would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n: brama events\n\n`);
    this.clients.add(res);
    const drop = (): void => this.remove(res);
    req.once('close', drop);
    res.once('close', drop);
    res.once('error', drop);
    if (this.timer === null) {
      this.timer = setInterval(() => this.heartbeat(), this.heartbeatMs);
      this.timer.unref?.();
    }
  }

  /** Ends every stream and releases the subscription and the timer. */
  close(): void {
    for (const res of [...this.clients]) {
      this.remove(res);
      try {
        res.end();
      } catch {
        res.destroy();
      }
    }
  }

  private broadcast(event: BramaEvent): void {
    if (this.clients.size === 0) return;
    const frame = `data: ${toJson(event)}\n\n`;
    for (const res of [...this.clients]) this.write(res, frame);
  }

  private heartbeat(): void {
    if (closed(this.brama)) {
      // brama.close() dropped our subscription: end the streams so nothing keeps sockets open.
      this.close();
      return;
    }
    for (const res of [...this.clients]) this.write(res, ': heartbeat\n\n');
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.writableEnded || res.destroyed) {
      this.remove(res);
      return;
    }
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.remove(res);
      res.destroy();
      return;
    }
    try {
      res.write(frame);
    } catch {
      this.remove(res);
      res.destroy();
    }
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res) || this.clients.size > 0) return;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Whether `brama.close()` has been called (its methods then throw `BRAMA_CLOSED`). */
function closed(brama: Brama): boolean {
  try {
    brama.subscribe(noop, { events: ['cleanup'] }).unsubscribe();
    return false;
  } catch (error) {
    return isBramaError(error, 'BRAMA_CLOSED');
  }
}

function noop(): void {}
