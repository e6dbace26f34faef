/**
 * `brama watch`: the connections under the prefix, then one line per change the fleet
 * announces, until Ctrl-C. Announcements are decoded by the store's own parser and each one is
 * checked by reading the connection back (an announcement is a hint; Redis is the truth).
 */
import { parseAnnouncement, type Announcement } from '../../stores/redis/announcement.js';
import { changesChannel } from '../../stores/redis/keys.js';
import type { CliCommand } from '../args.js';
import { closeRedis, connectRedis, redisName, type CliClient } from '../connect.js';
import { Fleet } from '../fleet.js';
import { formatChange, formatTable, type ChangeLine } from '../format.js';
import { stopped, type CliIo } from '../io.js';

/** The line of an announcement, before its read-back adds the state. */
function lineOf(a: Announcement, now: number): Omit<ChangeLine, 'state'> {
  const named = { at: now, kind: a.kind, identifier: a.identifier, scope: a.scope };
  if (a.kind === 'counters') {
    const { failureCount, totalFailures, totalSuccesses } = a.counters;
    return { ...named, from: null, reason: null, failureCount, totalFailures, totalSuccesses };
  }
  const { circuit, totalFailures, totalSuccesses } = a.result.connection;
  return {
    ...named,
    from: a.result.from,
    reason: a.reason,
    failureCount: circuit.failureCount,
    totalFailures,
    totalSuccesses,
  };
}

/** Prints changes as they happen; resolves 0 once `io.signal` aborts. */
export async function watch(
  cmd: Extract<CliCommand, { kind: 'watch' }>,
  io: CliIo,
): Promise<number> {
  const { url, prefix } = cmd.target;
  const client = await connectRedis(url, true);
  let subscriber: CliClient | null = null;
  try {
    subscriber = await connectRedis(url, true);
    const fleet = new Fleet(client, url, prefix);
    const printAll = async (): Promise<void> => {
      const all = await fleet.readAll(cmd.scope);
      io.out(all.length === 0 ? 'No connection is stored yet.\n' : formatTable(all));
    };
    // Lines leave in the order announcements arrived, each after its read-back.
    let queue = Promise.resolve();
    const onMessage = (_channel: string, payload: string): void => {
      const a = parseAnnouncement(payload);
      if (a === null || (cmd.scope !== null && a.scope !== cmd.scope)) return;
      const read = fleet.read(a).catch(() => undefined);
      queue = queue.then(async () => {
        const current = await read;
        const line = lineOf(a, Date.now());
        const state = current === undefined ? '?' : (current?.state ?? 'gone');
        io.out(`${formatChange({ ...line, state })}\n`);
      });
    };
    subscriber.on('message', onMessage);
    let lost = false;
    subscriber.on('reconnecting', () => {
      if (!lost) io.err(`brama: lost ${redisName(url)}, reconnecting\n`);
      lost = true;
    });
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      io.err('brama: reconnected; changes meanwhile may be missing, current state:\n');
      queue = queue.then(printAll).catch(() => undefined);
    });
    await subscriber.subscribe(changesChannel(prefix));
    await printAll();
    io.err(`brama: watching prefix ${JSON.stringify(prefix)} (Ctrl-C to stop)\n`);
    await stopped(io.signal);
    await queue;
    return 0;
  } finally {
    if (subscriber !== null) await closeRedis(subscriber);
    await closeRedis(client);
  }
}
