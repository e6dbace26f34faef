/** `brama status`: every connection stored under the prefix, as a table or as JSON. */
import type { CliCommand } from '../args.js';
import { closeRedis, connectRedis } from '../connect.js';
import { Fleet } from '../fleet.js';
import { formatTable } from '../format.js';
import type { CliIo } from '../io.js';

/** Prints the connections stored under the prefix; resolves the exit code. */
export async function status(
  cmd: Extract<CliCommand, { kind: 'status' }>,
  io: CliIo,
): Promise<number> {
  const { url, prefix } = cmd.target;
  const client = await connectRedis(url, false);
  try {
    const statuses = await new Fleet(client, url, prefix).readAll(cmd.scope);
    if (cmd.json) {
      io.out(`${JSON.stringify(statuses, null, 2)}\n`);
    } else if (statuses.length === 0) {
      const where = cmd.scope === null ? '' : ` in scope ${JSON.stringify(cmd.scope)}`;
      io.out(`No connection${where} is stored under prefix ${JSON.stringify(prefix)}.\n`);
    } else {
      io.out(formatTable(statuses));
    }
    return 0;
  } finally {
    await closeRedis(client);
  }
}
