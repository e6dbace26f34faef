/**
 * `brama dashboard`: serves `brama/http`'s page for every connection stored under the prefix.
 * A `Brama` on a `RedisStore` registers each connection SCAN finds (registration adopts the
 * shared state and never resets it), rescans every {@link RESCAN_MS} for new ones, and drops
 * the local view of those gone from Redis without deleting anything. Read-only: no control
 * routes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Brama } from '../../brama.js';
import { BramaError } from '../../core/errors.js';
import { statusHandler } from '../../http/handler.js';
import { createRedisStore } from '../../redis.js';
import type { ConnectionRef } from '../../stores/redis/commands.js';
import type { CliCommand } from '../args.js';
import { closeRedis, connectRedis } from '../connect.js';
import { Fleet } from '../fleet.js';
import { errorLine } from '../run.js';
import { stopped, type CliIo } from '../io.js';
import { ViewStore } from '../view-store.js';

/** How often (ms) the dashboard looks for connections that appeared or went away. */
export const RESCAN_MS = 2000;

/** Addresses only this machine can reach. */
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

const refKey = (r: ConnectionRef): string => JSON.stringify([r.scope, r.identifier]);

/** Registers what Redis holds and the registry does not; drops what Redis no longer holds. */
async function mirror(fleet: Fleet, brama: Brama, store: ViewStore): Promise<void> {
  const refs = await fleet.scan();
  const stored = new Set(refs.map(refKey));
  const registered = new Set<string>();
  for (const s of brama.list()) {
    if (stored.has(refKey(s))) registered.add(refKey(s));
    else store.dropLocally(() => brama.unregister(s.identifier, { scope: s.scope }));
  }
  for (const ref of refs) {
    if (registered.has(refKey(ref))) continue;
    const current = await fleet.read(ref);
    if (current === null) continue;
    // Its own options and metadata, so the page shows the connection's settings.
    brama.register(ref.identifier, {
      scope: ref.scope,
      metadata: current.metadata,
      ...current.options,
    });
  }
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new BramaError(
          'BRAMA_INVALID_ARGUMENT',
          `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** Serves the dashboard until `io.signal` aborts; resolves 0. */
export async function dashboard(
  cmd: Extract<CliCommand, { kind: 'dashboard' }>,
  io: CliIo,
): Promise<number> {
  const { url, prefix } = cmd.target;
  // Fails within 3 s with a clear message (the store itself would only degrade).
  const client = await connectRedis(url, true);
  const fleet = new Fleet(client, url, prefix);
  // A cluster's store needs a cluster client (the store duplicates it for pub/sub).
  const store = new ViewStore(
    createRedisStore(client.isCluster ? { client, prefix } : { url, prefix }),
  );
  const brama = new Brama({ store });
  const handler = statusHandler(brama);
  const server = createServer(handler);
  let timer: ReturnType<typeof setInterval> | null = null;
  try {
    await store.inner.ready();
    await mirror(fleet, brama, store);
    let busy = false;
    let failing = false; // report a failing rescan once, not every time
    timer = setInterval(() => {
      if (busy) return;
      busy = true;
      mirror(fleet, brama, store)
        .then(() => (failing = false))
        .catch((error: unknown) => {
          if (!failing) io.err(`brama: rescan failed (will retry): ${errorLine(error)}\n`);
          failing = true;
        })
        .finally(() => (busy = false));
    }, RESCAN_MS);
    timer.unref();
    const address = await listen(server, cmd.host, cmd.port);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    io.out(`brama dashboard: http://${host}:${address.port}/\n`);
    if (!LOOPBACK.test(address.address)) {
      io.err(`brama: the dashboard has no token: anyone who can reach ${host} can read it\n`);
    }
    await stopped(io.signal);
    return 0;
  } finally {
    if (timer !== null) clearInterval(timer);
    handler.close();
    server.closeAllConnections();
    server.close();
    await brama.close();
    await closeRedis(client);
  }
}
