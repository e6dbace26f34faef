/**
 * The Redis store's connection to Redis: the command client, the pub/sub subscriber, their
 * liveness (a watchdog for unanswered commands, a heartbeat through the subscription), the
 * replacement of a connection that stopped answering, and the offset between Redis server time
 * and the registry's clock. Knows nothing about circuits: the store reacts to its callbacks.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../core/clock.js';
import { BramaError } from '../../core/errors.js';
import { Health, type HealthEvents } from './health.js';
import { Heartbeat } from './heartbeat.js';
import { detail, isOutage, unavailable } from './outage.js';
import { changesChannel, heartbeatChannel } from './keys.js';
import { redactUrl, type RedisStoreSettings } from './options.js';

/** What the link tells its store. */
export interface LinkEvents extends Omit<HealthEvents, 'probe'> {
  /** A change announced by a script of any process (including this one). */
  message(payload: string): void;
}

/** Creates a client for a URL: injected so that only `brama/redis` imports ioredis. */
export type ClientFactory = (url: string) => Redis;

/** A heartbeat goes out this often (ms) while Redis answers. */
const HEARTBEAT_MS = 1000;

const now = (): number => performance.now();

/** Redis clients, subscription and health of one store. */
export class RedisLink {
  /** Names this process in announced changes and in command sequence numbers. */
  readonly source = randomUUID();
  readonly client: Redis | Cluster;
  readonly health: Health;
  private readonly subscriber: Redis | Cluster;
  private readonly owned: (Redis | Cluster)[] = [];
  private readonly channel: string;
  private readonly heartbeat: string;
  private readonly detach: (() => void)[] = [];
  private events: LinkEvents | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The last recovery PING, until it settles: never more than one queued in the client. */
  private ping: Promise<unknown> | null = null;
  private wakeReady: (() => void) | null = null;
  private subscribed: Promise<void> | null = null;
  private closed = false;
  /** Whether the command client was ever ready: a first failure means misconfiguration. */
  private everReady = false;
  private warned = false;
  /** The last connection error a client reported (the cause of the next degradation). */
  private lastError: unknown = null;
  private readonly beat = new Heartbeat(HEARTBEAT_MS);
  /** How often the watchdog and the heartbeat run (ms). */
  private readonly tickMs: number;

  /** Redis server time minus the registry clock, estimated from the fastest round trip. */
  offset = 0;
  private bestRtt = Infinity;

  constructor(
    private readonly settings: RedisStoreSettings,
    private readonly clock: Clock,
    factory: ClientFactory | null,
  ) {
    this.channel = changesChannel(settings.prefix);
    this.heartbeat = heartbeatChannel(settings.prefix, this.source);
    this.tickMs = Math.max(10, Math.min(settings.commandTimeout / 4, HEARTBEAT_MS / 4));
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
      this.owned.push(this.client);
      this.subscriber = factory(settings.url!);
      this.owned.push(this.subscriber);
    }
    this.health = new Health(
      settings.commandTimeout,
      settings.recoveryInterval,
      {
        degraded: (error) => this.events?.degraded(error),
        probe: () => this.probe(),
        resync: () => this.events?.resync() ?? Promise.resolve(),
        recovered: (ms) => this.events?.recovered(ms),
      },
      { tickMs: this.tickMs },
    );
  }

  /** Whether the client is a Redis Cluster client (outages may concern one node). */
  get sharded(): boolean {
    return (this.client as { isCluster?: unknown }).isCluster === true;
  }

  /** Whether commands are currently bypassed in favour of local state. */
  get degraded(): boolean {
    return this.health.degraded;
  }

  /** Starts listening; called once, when the store is attached. */
  start(events: LinkEvents): void {
    this.events = events;
    const remember = (error: unknown): void => {
      this.lastError = error;
    };
    this.listen(this.client, 'error', remember);
    this.listen(this.subscriber, 'error', remember);
    this.listen(this.client, 'close', () => this.fail('The Redis connection closed'));
    this.listen(this.client, 'ready', () => {
      this.everReady = true;
      this.lastError = null;
      this.health.probeSoon();
    });
    // ioredis subscribes again after a reconnect (right after 'ready'); messages sent meanwhile
    // are lost: reconcile once a PING behind the SUBSCRIBE is answered, so the reads see
    // everything the subscription missed.
    let first = true;
    this.listen(this.subscriber, 'ready', () => {
      if (first) {
        first = false;
        return;
      }
      const resubscribed = Promise.resolve().then(() => this.subscriber.ping());
      resubscribed.then(
        () => {
          this.beat.subscribed();
          if (!this.degraded) void this.health.resync();
        },
        () => {},
      );
    });
    this.listen(this.subscriber, 'message', (channel: unknown, payload: unknown) => {
      if (this.closed || typeof payload !== 'string') return;
      if (channel === this.channel) this.events?.message(payload);
      else if (channel === this.heartbeat && this.beat.heard(Number(payload)) && !this.degraded)
        // A heartbeat missing before this one: the subscription lost messages meanwhile.
        void this.health.resync();
    });
    const started = this.begin(); // the watchdog covers the subscription too
    const subscribed = Promise.resolve()
      .then(() => this.subscriber.subscribe(this.channel, this.heartbeat))
      .then(
        () => {
          this.answered(started, 0, NaN);
          this.beat.subscribed();
        },
        (error: unknown) => void this.failed(started, error),
      );
    const degraded = new Promise<void>((resolve) => (this.wakeReady = resolve));
    this.subscribed = Promise.race([subscribed, degraded]);
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** Resolves once subscribed (or the attempt failed, leaving the store degraded). */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  /** Marks a command sent; returns its id for {@link answered} / {@link failed}. */
  begin(): number {
    return this.health.begin();
  }

  /** A command answered: progress, and a clock offset sample from its server time. */
  answered(id: number, clockBefore: number, serverNow: number, started = NaN): void {
    this.health.settled(id);
    if (Number.isNaN(serverNow) || Number.isNaN(started)) return;
    const rtt = now() - started;
    // Prefer the fastest round trip; let the bound drift up so the estimate follows the clocks.
    this.bestRtt = this.bestRtt * 1.01 + 0.01;
    if (rtt <= this.bestRtt) {
      this.bestRtt = rtt;
      const clockAfter = this.clock.now();
      // Whole ms: times shown in this process (Redis time less the offset) stay integers.
      this.offset = Math.round(serverNow - (clockBefore + clockAfter) / 2);
    }
  }

  /**
   * A command failed. Connection trouble and a server that cannot serve (loading, busy,
   * read-only, out of memory...) degrade the store; an error about this one command (a key of
   * the wrong type, a value brama cannot decode) does not: the store handles that connection
   * locally and goes on. Returns whether it was an outage; `degrade: false` leaves the
   * outage to the caller (one node of a cluster).
   */
  failed(id: number, error: unknown, degrade = true): boolean {
    this.health.settled(id);
    if (!isOutage(error)) return false;
    if (degrade) this.fail('A Redis command failed', error);
    return true;
  }

  /** Enters degraded mode (see Health) with an error naming what happened and its cause. */
  fail(what: string, cause: unknown = this.lastError): void {
    if (this.closed || this.degraded) return;
    const error = unavailable(what, cause, this.describeTarget());
    if (!this.everReady && !this.warned) {
      // Never connected: most likely a wrong host, port or password. Say so once, loudly.
      this.warned = true;
      process.emitWarning(
        `brama: cannot use Redis at ${this.describeTarget()}: ${detail(cause)}. Fleet mode works on local state until Redis answers.`,
        'BramaWarning',
      );
    }
    this.wakeReady?.();
    this.health.fail(error);
  }

  /** Stops timers, unsubscribes and closes the clients this link created. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.health.close();
    for (const undo of this.detach) undo();
    // Clients still retrying while they close must not print "Unhandled error event".
    for (const client of this.owned) client.on('error', () => {});
    await Promise.allSettled(this.owned.map((c) => quit(c, this.settings.commandTimeout)));
  }

  /** Runs every few hundred ms: the watchdog and the heartbeat. */
  private tick(): void {
    if (this.closed) return;
    // The watchdog runs even while degraded, so that it knows when it last ran.
    if (this.health.watch() && !this.degraded) {
      this.fail(`Redis did not answer within ${this.settings.commandTimeout} ms`, null);
      // A connection that swallows bytes without closing (a black hole) never answers again.
      this.replace(this.client);
      return;
    }
    if (this.degraded) return;
    const action = this.beat.next(now());
    if (action.kind === 'replace') {
      // Redis answers commands, but the subscription delivers nothing: replace it. ioredis
      // subscribes again on the new connection; its 'ready' starts a resync.
      this.replace(this.subscriber);
    } else if (action.kind === 'send') {
      const id = this.begin();
      Promise.resolve()
        .then(() => this.client.publish(this.heartbeat, String(action.beat)))
        .then(
          () => {
            this.answered(id, 0, NaN);
            this.beat.sent();
          },
          // In a cluster, PUBLISH goes to any node, maybe one that is down while the others
          // serve: no reason to degrade the store (stalls are the watchdog's).
          (error: unknown) => void this.failed(id, error, !this.sharded),
        );
    }
  }

  /** While degraded: one PING at a time, answered within commandTimeout or the link is replaced. */
  private async probe(): Promise<boolean> {
    const ping = (this.ping ??= Promise.resolve()
      .then(() => this.client.ping())
      .finally(() => (this.ping = null)));
    try {
      if (await within(ping, this.settings.commandTimeout)) return true;
    } catch {
      return false;
    }
    // No answer in time: the connection may be a black hole that will never answer.
    this.ping = null;
    this.replace(this.client);
    return false;
  }

  /** Drops a client's connection and lets ioredis reconnect (resending unanswered commands). */
  private replace(client: Redis | Cluster): void {
    try {
      client.disconnect(true);
    } catch {
      // A client that cannot reconnect stays degraded; the next probe tries again.
    }
  }

  /** The Redis this store talks to, for messages: the URL without credentials, or host:port. */
  private describeTarget(): string {
    if (this.settings.url !== undefined) return redactUrl(this.settings.url);
    const options = (this.settings.client as { options?: { host?: unknown; port?: unknown } })
      .options;
    return typeof options?.host === 'string'
      ? `${options.host}:${String(options.port)}`
      : 'the given client';
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
