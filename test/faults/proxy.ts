/**
 * A loopback TCP proxy that fault tests put between a client and a `redis-server` to simulate a
 * bad network: delayed bytes, a black hole, lost replies, refused or reset connections. It only
 * ever listens on and connects to 127.0.0.1, never keeps the process alive (server, sockets and
 * timers are unref'd) and swallows every socket error by tearing the connection down. Test-only.
 *
 * A mode applies to existing and new connections from the moment it is set. A chunk is forwarded
 * only if the mode carries its direction both when it arrives and when it is due; anything else is
 * discarded, never replayed. A target that closes while replies are not carried (blackhole,
 * dropReplies) is not passed on either: the client gets an RST once a mode carries replies again.
 * There is no backpressure: it is meant for small test traffic.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What the proxy does with traffic; each mode is set by the method of the same name. */
export type FaultMode = 'pass' | 'delay' | 'blackhole' | 'dropReplies' | 'refuse';

/** Bytes the proxy has read from either side, written to the other side, and thrown away. */
export interface FaultProxyStats {
  readonly received: number;
  readonly forwarded: number;
  readonly discarded: number;
}

type Mode =
  { readonly name: 'delay'; readonly ms: number } | { readonly name: Exclude<FaultMode, 'delay'> };
/** `up` is client → server, `down` is server → client. */
type Direction = 'up' | 'down';
type Counts = { -readonly [K in keyof FaultProxyStats]: number };

const LOOPBACK = '127.0.0.1';

/** Whether traffic in `direction` gets through under `mode`. */
function carries(mode: Mode, direction: Direction): boolean {
  switch (mode.name) {
    case 'pass':
    case 'delay':
    case 'refuse': // refuses new connections only
      return true;
    case 'blackhole':
      return false;
    case 'dropReplies':
      return direction === 'up';
  }
}

/** Closes `socket` with an RST (a destroy while it is still connecting, which cannot send one). */
function abort(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** Readies a socket of the proxy: errors end up in 'close' (hadError), never unhandled. */
function prepare(socket: Socket): void {
  socket.on('error', () => {});
  socket.setNoDelay(true);
  socket.unref();
}

/** One direction's queue of chunks, each delivered at its due time and never before an older one. */
class Lane {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;
  private drained: (() => void) | undefined;

  constructor(private readonly deliver: (chunk: Buffer) => void) {}

  push(chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && this.queue.length === 0) return this.deliver(chunk);
    this.lastDue = Math.max(performance.now() + delayMs, this.lastDue);
    this.queue.push({ due: this.lastDue, chunk });
    this.schedule();
  }

  /** Runs `then` once every queued chunk has been delivered (or dropped). */
  afterDrain(then: () => void): void {
    if (this.queue.length === 0) then();
    else this.drained = then;
  }

  /** Throws the queue away and returns how many bytes it held. */
  drop(): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    const bytes = this.queue.reduce((sum, { chunk }) => sum + chunk.length, 0);
    this.queue.length = 0;
    this.settle();
    return bytes;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (head === undefined || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - performance.now()));
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    // A timer may fire a fraction of a millisecond early: what is not due yet is rescheduled.
    while (this.queue.length > 0 && this.queue[0]!.due <= performance.now())
      this.deliver(this.queue.shift()!.chunk);
    this.settle();
    this.schedule();
  }

  private settle(): void {
    const drained = this.drained;
    if (this.queue.length > 0 || drained === undefined) return;
    this.drained = undefined;
    drained();
  }
}

/** What a link needs from its proxy. */
interface LinkContext {
  readonly targetPort: number;
  readonly counts: Counts;
  mode(): Mode;
  finished(link: Link): void;
}

/** One accepted client connection and its (lazily opened) connection to the target. */
class Link {
  private upstream: Socket | null = null;
  /** `idle`: not connected yet (accepted while black-holed); `gone`: the target side closed. */
  private upstreamState: 'idle' | 'open' | 'gone' = 'idle';
  /** Whether the client has been told that the target side closed. */
  private revealed = false;
  private clientOpen = true;
  private readonly up = new Lane((chunk) => this.deliver('up', chunk));
  private readonly down = new Lane((chunk) => this.deliver('down', chunk));

  constructor(
    private readonly client: Socket,
    private readonly ctx: LinkContext,
  ) {
    prepare(client);
    client.on('data', (chunk: Buffer) => this.arrive('up', chunk));
    client.once('close', (hadError) => this.clientClosed(hadError));
    this.apply();
  }

  get open(): boolean {
    return this.clientOpen;
  }

  /** Brings the link in line with the current mode (called on accept and on every switch). */
  apply(): void {
    const mode = this.ctx.mode();
    if (!carries(mode, 'up')) this.ctx.counts.discarded += this.up.drop();
    if (!carries(mode, 'down')) this.ctx.counts.discarded += this.down.drop();
    if (!this.clientOpen || this.client.destroyed) return;
    // The target's close was lost while replies were not carried: the client learns it now,
    // abruptly, as it would from the RST its next segment would get.
    if (carries(mode, 'down') && this.upstreamState === 'gone' && !this.revealed) {
      this.revealed = true;
      abort(this.client);
    } else if (carries(mode, 'up') && this.upstreamState === 'idle') this.connect();
  }

  /** Destroys both sockets abruptly. */
  reset(): void {
    this.ctx.counts.discarded += this.up.drop() + this.down.drop();
    abort(this.client);
    if (this.upstream !== null) abort(this.upstream);
  }

  private connect(): void {
    const upstream = createConnection({ host: LOOPBACK, port: this.ctx.targetPort });
    prepare(upstream);
    upstream.on('data', (chunk: Buffer) => this.arrive('down', chunk));
    upstream.once('close', (hadError) => this.upstreamClosed(hadError));
    this.upstream = upstream;
    this.upstreamState = 'open';
  }

  private arrive(direction: Direction, chunk: Buffer): void {
    this.ctx.counts.received += chunk.length;
    const mode = this.ctx.mode();
    if (!carries(mode, direction)) this.ctx.counts.discarded += chunk.length;
    else
      (direction === 'up' ? this.up : this.down).push(chunk, mode.name === 'delay' ? mode.ms : 0);
  }

  private deliver(direction: Direction, chunk: Buffer): void {
    const target = direction === 'up' ? this.upstream : this.clientOpen ? this.client : null;
    if (carries(this.ctx.mode(), direction) && target !== null && target.writable) {
      target.write(chunk);
      this.ctx.counts.forwarded += chunk.length;
    } else this.ctx.counts.discarded += chunk.length;
  }

  private clientClosed(hadError: boolean): void {
    this.clientOpen = false;
    this.ctx.counts.discarded += this.down.drop();
    const upstream = this.upstream;
    if (upstream === null) return this.finish();
    if (hadError) {
      this.ctx.counts.discarded += this.up.drop();
      abort(upstream);
    } else this.up.afterDrain(() => upstream.end());
  }

  private upstreamClosed(hadError: boolean): void {
    this.upstream = null;
    this.upstreamState = 'gone';
    this.ctx.counts.discarded += this.up.drop();
    if (!this.clientOpen) return this.finish();
    if (!carries(this.ctx.mode(), 'down')) return; // lost: the client finds out on heal
    this.revealed = true;
    if (hadError) abort(this.client);
    else this.down.afterDrain(() => this.client.end());
  }

  private finish(): void {
    this.ctx.counts.discarded += this.up.drop() + this.down.drop();
    this.ctx.finished(this);
  }
}

/** A loopback TCP proxy in front of `127.0.0.1:targetPort` whose network faults a test switches. */
export class FaultProxy {
  private current: Mode = { name: 'pass' };
  private readonly links = new Set<Link>();
  private readonly counts: Counts = { received: 0, forwarded: 0, discarded: 0 };
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    /** The port the proxy listens on (127.0.0.1). */
    readonly port: number,
    /** The port on 127.0.0.1 it forwards to. */
    readonly targetPort: number,
  ) {
    const ctx: LinkContext = {
      targetPort,
      counts: this.counts,
      mode: () => this.current,
      finished: (link) => void this.links.delete(link),
    };
    server.on('connection', (socket: Socket) => {
      if (this.current.name === 'refuse') {
        prepare(socket);
        abort(socket);
      } else this.links.add(new Link(socket, ctx));
    });
  }

  /** Starts a proxy on a free 127.0.0.1 port that forwards to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<FaultProxy> {
    if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65_535)
      throw new RangeError(`targetPort must be an integer in 1..65535, received ${targetPort}`);
    const server = createServer();
    server.unref();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {}); // accept errors (EMFILE...) must not crash a test
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the proxy got no port');
    return new FaultProxy(server, address.port, targetPort);
  }

  /** The URL a Redis client connects to instead of the server's. */
  get url(): string {
    return `redis://${LOOPBACK}:${this.port}`;
  }

  /** The current mode. */
  get mode(): FaultMode {
    return this.current.name;
  }

  /** How many client connections are open. */
  get connections(): number {
    let open = 0;
    for (const link of this.links) if (link.open) open++;
    return open;
  }

  /** Byte counts so far (a test waits on `discarded` to know the proxy has swallowed a write). */
  get stats(): FaultProxyStats {
    return { ...this.counts };
  }

  /** Forwards both ways (the default). */
  pass(): void {
    this.switchTo({ name: 'pass' });
  }

  /** Forwards both ways, each chunk `ms` later than it arrived, in order per direction. */
  delay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`delay ms must be a finite number >= 0, received ${ms}`);
    this.switchTo({ name: 'delay', ms });
  }

  /** Keeps every connection (and accepts new ones) but discards every byte both ways. */
  blackhole(): void {
    this.switchTo({ name: 'blackhole' });
  }

  /** Forwards client → server and discards server → client: commands run, answers are lost. */
  dropReplies(): void {
    this.switchTo({ name: 'dropReplies' });
  }

  /** Closes new connections at once with an RST; existing ones keep forwarding both ways. */
  refuse(): void {
    this.switchTo({ name: 'refuse' });
  }

  /** Back to `pass()`. */
  heal(): void {
    this.pass();
  }

  /** Destroys every current connection on both sides with an RST; the mode stays. */
  reset(): void {
    for (const link of this.links) link.reset();
  }

  /** Stops listening and destroys every connection; resolves once the server is closed. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.reset();
    });
    return this.closing;
  }

  private switchTo(mode: Mode): void {
    this.current = mode;
    for (const link of this.links) link.apply();
  }
}
