/**
 * `brama open|close|reset <identifier>`: a manual action applied in Redis by the store's own
 * `act` script, so every running process of the fleet emits its event (origin `'remote'`, with
 * the operator's reason). A connection Redis does not hold is an error: nothing is created.
 */
import { BramaError } from '../../core/errors.js';
import type { CliCommand } from '../args.js';
import { closeRedis, connectRedis } from '../connect.js';
import { describeConnection, Fleet } from '../fleet.js';
import type { CliIo } from '../io.js';

const DONE = { open: 'opened', close: 'closed', reset: 'reset' } as const;

/** Applies the action; resolves the exit code, throws `BRAMA_NOT_FOUND` for an unknown one. */
export async function action(
  cmd: Extract<CliCommand, { kind: 'action' }>,
  io: CliIo,
): Promise<number> {
  const { url, prefix } = cmd.target;
  const ref = { identifier: cmd.identifier, scope: cmd.scope };
  const client = await connectRedis(url, false);
  try {
    const result = await new Fleet(client, url, prefix).act(
      ref,
      cmd.action,
      cmd.reason,
      cmd.expiry,
    );
    if (result === null) {
      throw new BramaError(
        'BRAMA_NOT_FOUND',
        `connection ${describeConnection(ref)} is not stored under prefix ${JSON.stringify(prefix)}`,
      );
    }
    const c = result.connection.circuit;
    const until = c.openUntil === null ? '' : ` until ${new Date(c.openUntil).toISOString()}`;
    io.out(
      `${DONE[cmd.action]} ${describeConnection(ref)}: ${result.from} -> ${c.state}${until}\n`,
    );
    return 0;
  } finally {
    await closeRedis(client);
  }
}
