/**
 * The Redis store's connection to Redis: the command client, the pub/sub subscriber, the
 * health of both (degraded mode and recovery) and the offset between Redis server time and the
 * registry's clock. Knows nothing about circuits: the store reacts to its callbacks.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../core/clock.js';
import { BramaError } from '../../core/errors.js';
import { changesChannel } from './keys.js';
import type { RedisStoreSettings } from './options.js';

/** What the link tells its store. */
export interface LinkEvents {
  /** A change announced by a script of any process (including this one). */
  message(payload: string): void;
  /** Redis became unreachable or slow; `error` says how. */
  degraded(error: BramaError): void;
  /**
   * Redis answers again (or the subscription was re-established and messages may have been
   * missed): the store replays and reconciles; the returned promise settles when it is done.
   */
  resync(): Promise<void>;
  /** Resync after a degraded period finished; `downtimeMs` as measured by the link. */
  recovered(downtimeMs: number): void;
}

/** Creates a client for a URL: injected so that only `brama/redis` imports ioredis. */
export type ClientFactory = (url: string) => Redis;

const now = (): number => performance.now();

/** Redis clients, subscription and health of one store. */
export class RedisLink {
  /** Names this process in announced changes. */
  readonly source = randomUUID();
  readonly client: Redis | Cluster;
  private readonly subscriber: Redis | Cluster;
  private readonly owned: (Redis | Cluster)[] = [];
  private readonly channel: string;
  private readonly detach: (() => void)[] = [];
  private events: LinkEvents | null = null;

  /** Whether commands are currently bypassed in favour of local state. */
  degraded = false;
  private degradedAt = 0;
  private inflight = 0;
  private progressAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private probe: ReturnType<typeof setTimeout> | null = null;
  private probing = false;
  /** The last recovery PING, until it settles: never more than one queued in the client. */
  private ping: Promise<unknown> | null = null;
  private wakeReady: (() => void) | null = null;
  private degradedWaiters: (() => void)[] = [];
  private resyncing: Promise<void> | null = null;
  private closed = false;
  private subscribed: Promise<void> | null = null;

  /** Redis server time minus the registry clock, estimated from the fastest round trip. */
  offset = 0;
  private bestRtt = Infinity;

  constructor(
    private readonly settings: RedisStoreSettings,
    private readonly clock: Clock,
    factory: ClientFactory | null,
  ) {
    this.channel = changesChannel(settings.prefix);
    if (settings.client !== undefined) {
      this.client = settings.client;
      // Both signatures accept no arguments; TypeScript cannot call the union directly.
      const client: { duplicate(): Redis | Cluster } = settings.client;
      this.subscriber = client.duplicate();
      this.owned.push(this.subscriber);
    } else {
      if (factory === null)
        throw new BramaError('BRAMA_INVALID_OPTION', 'Invalid option "url": no client factory');
      this.client = factory(settings.url!);
      this.subscriber = factory(settings.url!);
      this.owned.push(this.client, this.subscriber);
    }
  }

  /** Starts listening; called once, when the store is attached. */
  start(events: LinkEvents): void {
    this.events = events;
    this.listen(this.client, 'error', () => {});
    this.listen(this.subscriber, 'error', () => {});
    this.listen(this.client, 'close', () => {
      this.fail(new BramaError('BRAMA_STORE_UNAVAILABLE', 'The Redis connection closed'));
    });
    this.listen(this.client, 'ready', () => {
      if (this.degraded) this.check();
    });
    // ioredis re-subscribes after a reconnect; messages sent meanwhile are lost: reconcile.
    let first = true;
    this.listen(this.subscriber, 'ready', () => {
      if (!first && !this.degraded) void this.resync();
      first = false;
    });
    this.listen(this.subscriber, 'message', (channel: unknown, payload: unknown) => {
      if (channel === this.channel && typeof payload === 'string' && !this.closed)
        this.events?.message(payload);
    });
    const started = this.begin(); // the watchdog covers the subscription too
    const subscribed = Promise.resolve()
      .then(() => this.subscriber.subscribe(this.channel))
      .then(
        () => this.answered(started, 0, NaN),
        (error: unknown) => void this.failed(error),
      );
    const degraded = new Promise<void>((resolve) => (this.wakeReady = resolve));
    this.subscribed = Promise.race([subscribed, degraded]);
    this.watchdog = setInterval(() => this.watch(), Math.max(10, this.settings.commandTimeout / 4));
    this.watchdog.unref();
  }

  /** Resolves once subscribed (or the attempt failed, leaving the store degraded). */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  /**
   * A promise that resolves when the link is (or next becomes) degraded, or closes; `cancel`
   * forgets it (so waiting while healthy leaves nothing behind).
   */
  whenDegraded(): { readonly promise: Promise<void>; cancel(): void } {
    if (this.degraded || this.closed) return { promise: Promise.resolve(), cancel: () => {} };
    let wake: () => void = () => {};
    const promise = new Promise<void>((resolve) => (wake = resolve));
    this.degradedWaiters.push(wake);
    const cancel = (): void => {
      const at = this.degradedWaiters.indexOf(wake);
      if (at >= 0) this.degradedWaiters.splice(at, 1);
    };
    return { promise, cancel };
  }

  /** Marks a command sent; returns its start time for {@link answered}. */
  begin(): number {
    const at = now();
    if (this.inflight++ === 0) this.progressAt = at;
    return at;
  }

  /** A command answered: progress, and a clock offset sample from its server time. */
  answered(started: number, clockBefore: number, serverNow: number): void {
    this.inflight--;
    const at = now();
    this.progressAt = at;
    if (Number.isNaN(serverNow)) return;
    const rtt = at - started;
    // Prefer the fastest round trip; let the bound drift up so the estimate follows the clocks.
    this.bestRtt = this.bestRtt * 1.01 + 0.01;
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      const clockAfter = this.clock.now();
      this.offset = serverNow - (clockBefore + clockAfter) / 2;
    }
  }

  /**
   * A command failed. Connection trouble and a server that cannot serve (loading, busy,
   * read-only, out of memory...) degrade the store; an error about this one command (a key of
   * the wrong type, a reply of another version's format) does not: the store applies that
   * operation locally and goes on. Returns whether the store degraded.
   */
  failed(error: unknown): boolean {
    this.inflight--;
    this.progressAt = now();
    if (!isOutage(error)) {
      process.emitWarning(
        `brama: a Redis command failed: ${error instanceof Error ? error.message : String(error)}`,
        'BramaWarning',
      );
      return false;
    }
    this.fail(unavailable('A Redis command failed', error));
    return true;
  }

  /** Enters degraded mode (once) and starts probing for recovery. */
  fail(error: BramaError): void {
    if (this.closed || this.degraded) return;
    this.degraded = true;
    this.degradedAt = now();
    this.wakeReady?.();
    for (const wake of this.degradedWaiters.splice(0)) wake();
    this.events?.degraded(error);
    this.scheduleProbe();
  }

  /** Stops timers, unsubscribes and closes the clients this link created. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const wake of this.degradedWaiters.splice(0)) wake();
    if (this.probe) clearTimeout(this.probe);
    for (const undo of this.detach) undo();
    // Clients still retrying while they close must not print "Unhandled error event".
    for (const client of this.owned) client.on('error', () => {});
    await Promise.allSettled(this.owned.map((c) => quit(c, this.settings.commandTimeout)));
  }

  private watch(): void {
    if (this.inflight > 0 && now() - this.progressAt > this.settings.commandTimeout) {
      this.fail(
        new BramaError(
          'BRAMA_STORE_UNAVAILABLE',
          `Redis did not answer within ${this.settings.commandTimeout} ms`,
        ),
      );
    }
  }

  private scheduleProbe(): void {
    if (this.closed || this.probe !== null) return;
    this.probe = setTimeout(() => {
      this.probe = null;
      this.check();
    }, this.settings.recoveryInterval);
    this.probe.unref();
  }

  /** While degraded: one PING at a time; on an answer in time, resync and recover. */
  private check(): void {
    if (this.closed || !this.degraded || this.probing) return;
    this.probing = true;
    // A PING still queued in the client (reconnecting) is reused, never stacked.
    const ping = (this.ping ??= Promise.resolve()
      .then(() => this.client.ping())
      .finally(() => (this.ping = null)));
    within(ping, this.settings.commandTimeout)
      .then(async (answered) => {
        if (!answered) return; // still degraded: probe again later
        this.degraded = false;
        await this.resync();
        if (!this.degraded) this.events?.recovered(Math.round(now() - this.degradedAt));
      })
      .catch(() => {
        this.degraded = true;
      })
      .finally(() => {
        this.probing = false;
        if (this.degraded) this.scheduleProbe();
      });
  }

  private resync(): Promise<void> {
    if (this.resyncing !== null || this.events === null) return this.resyncing ?? Promise.resolve();
    this.resyncing = this.events.resync().finally(() => {
      this.resyncing = null;
    });
    return this.resyncing;
  }

  private listen(
    emitter: Redis | Cluster,
    event: string,
    handler: (...args: unknown[]) => void,
  ): void {
    emitter.on(event, handler);
    this.detach.push(() => emitter.off(event, handler));
  }
}

/** Server replies that mean Redis cannot serve right now (as opposed to a bad command). */
const OUTAGE_REPLIES =
  /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS|MISCONF)\b/;

/** Whether a command's error means Redis is unreachable or cannot serve. */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name === 'ReplyError') return OUTAGE_REPLIES.test(error.message);
  // A reply brama cannot decode: the keys were written by something else.
  if (error instanceof BramaError && error.message.startsWith('Unexpected reply')) return false;
  return true;
}

function unavailable(what: string, cause: unknown): BramaError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new BramaError('BRAMA_STORE_UNAVAILABLE', `${what}: ${detail}`, { cause });
}

/**
 * Resolves `true` once `promise` settles (a rejection propagates), `false` if it has not after
 * `ms`. The timer is unref'd and cleared either way, so waiting never keeps a process alive.
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT, or a hard disconnect when Redis does not answer in time. */
async function quit(client: Redis | Cluster, ms: number): Promise<void> {
  try {
    if (!(await within(client.quit(), ms))) client.disconnect();
  } catch {
    client.disconnect();
  }
}
