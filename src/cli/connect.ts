/**
 * The CLI's Redis clients: ioredis is loaded only here, when a command runs (it is an optional
 * peer dependency), and a Redis that does not answer within {@link ANSWER_MS} is a clear
 * `BRAMA_STORE_UNAVAILABLE` error naming it, never a hang. A URL that names a node of a Redis
 * Cluster gets a cluster client (the node is its seed), so commands reach every master.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { BramaError } from '../core/errors.js';
import { redactUrl } from '../stores/redis/options.js';

/** How long the CLI waits for Redis to answer (connection, or one command) before giving up. */
export const ANSWER_MS = 3000;

/** Names Redis in messages, without its password. */
export function redisName(url: string): string {
  return `Redis at ${redactUrl(url)}`;
}

/** The error of a Redis that did not answer in time, for the one-line message. */
export function notAnswering(url: string, cause?: unknown): BramaError {
  const detail = cause instanceof Error && cause.message !== '' ? ` (${cause.message})` : '';
  return new BramaError(
    'BRAMA_STORE_UNAVAILABLE',
    `${redisName(url)} did not answer within ${ANSWER_MS / 1000} s${detail}`,
    { cause },
  );
}

/** The error of a Redis that refused the connection (or failed it) outright. */
function unreachable(url: string, cause: unknown): BramaError {
  const detail = cause instanceof Error && cause.message !== '' ? cause.message : String(cause);
  return new BramaError(
    'BRAMA_STORE_UNAVAILABLE',
    `${redisName(url)} is not reachable: ${detail}`,
    {
      cause,
    },
  );
}

/** A client of one Redis, or of a Redis Cluster. */
export type CliClient = Redis | Cluster;

interface Ioredis {
  readonly Redis: typeof import('ioredis').Redis;
  readonly Cluster: typeof import('ioredis').Cluster;
}

async function loadIoredis(): Promise<Ioredis> {
  try {
    const { Redis, Cluster } = await import('ioredis');
    return { Redis, Cluster };
  } catch (error) {
    throw new BramaError(
      'BRAMA_STORE_UNAVAILABLE',
      'the brama CLI needs ioredis: install it beside brama (npm install ioredis)',
      { cause: error },
    );
  }
}

/** Resolves with `promise`, or rejects with `onTimeout()` after `ms`; leaves no timer behind. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects a client to `url` and waits until it is ready, at most {@link ANSWER_MS}.
 * `persistent` (watch, dashboard): it reconnects after losing Redis; otherwise (one-shot
 * commands) it never retries, and every command fails after {@link ANSWER_MS}. When the server
 * is a node of a Redis Cluster (`INFO cluster`), the result is a cluster client seeded with it,
 * with the URL's credentials and TLS.
 */
export async function connectRedis(url: string, persistent: boolean): Promise<CliClient> {
  const ioredis = await loadIoredis();
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: ANSWER_MS,
    enableAutoPipelining: true,
    // The first connection must succeed at once; later, a persistent client keeps trying.
    retryStrategy: persistent ? (times) => Math.min(times * 200, 2000) : () => null,
    maxRetriesPerRequest: persistent ? null : 0,
    commandTimeout: ANSWER_MS,
  };
  const client = new ioredis.Redis(url, options);
  await ready(url, client, () => client.connect());
  if (!(await clusterEnabled(client))) return client;
  const { host, port, username, password, tls } = client.options;
  client.disconnect();
  const cluster = new ioredis.Cluster([{ host, port }], {
    lazyConnect: true,
    enableAutoPipelining: true,
    clusterRetryStrategy: persistent ? (times) => Math.min(times * 200, 2000) : () => null,
    redisOptions: {
      username,
      password,
      tls,
      connectTimeout: ANSWER_MS,
      commandTimeout: ANSWER_MS,
      maxRetriesPerRequest: persistent ? null : 0,
    },
  });
  await ready(url, cluster, () => cluster.connect());
  return cluster;
}

/** Waits until `client` is connected (at most {@link ANSWER_MS}); on failure, drops it. */
async function ready(url: string, client: CliClient, connect: () => Promise<void>): Promise<void> {
  let lastError: unknown = null;
  // Without a listener ioredis prints every connection error; failures surface as rejections.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await within(connect(), ANSWER_MS, () => notAnswering(url, lastError));
  } catch (error) {
    client.disconnect();
    if (error instanceof BramaError) throw error;
    // The socket's own error ("connect ECONNREFUSED ...") says more than "Connection is closed".
    throw unreachable(url, lastError ?? error);
  }
}

/** Whether the server is a node of a Redis Cluster (a server without INFO is taken as not). */
async function clusterEnabled(client: Redis): Promise<boolean> {
  try {
    return /^cluster_enabled:1\b/m.test(await client.info('cluster'));
  } catch {
    return false;
  }
}

/** Closes a client: QUIT when it still answers, else drops the connection. Never rejects. */
export async function closeRedis(client: CliClient): Promise<void> {
  if (client.status === 'ready') {
    try {
      await within(client.quit(), 1000, () => new Error('QUIT unanswered'));
      return;
    } catch {
      // dropped below
    }
  }
  client.disconnect();
}
