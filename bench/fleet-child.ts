/**
 * A child process of scenario 6 (bench/scenarios/fleet*.ts): one Brama per process, as in an
 * application, driven by the parent over IPC. Its role (bench/fleet-roles/) says what it does:
 * `available` times `isAvailable`; `member` reports outcomes as fast as it can (or sends the
 * baselines); `inflight` keeps calls in flight; `observer` records when it sees a circuit that
 * the parent trips open (and closed again), on its own clock; `caller` calls a dependency that
 * goes down.
 *
 * Usage (through `child_process.fork`): node --expose-gc fleet-child.js '<FleetChildConfig JSON>'
 * Messages in: { id, cmd, ...args }. Messages out: { ready: true } once set up; { id, ok, result
 * | error } per command; { event } (observer). After `close` it disconnects and exits by itself.
 */
import type { FleetChildConfig, FleetMessage, FleetRequest, FleetRole } from './fleet-protocol.js';
import { available } from './fleet-roles/available.js';
import { caller } from './fleet-roles/caller.js';
import type { Handlers } from './fleet-roles/common.js';
import { inflight } from './fleet-roles/inflight.js';
import { member } from './fleet-roles/member.js';
import { observer } from './fleet-roles/observer.js';

function send(message: FleetMessage): void {
  if (process.connected) process.send?.(message);
}

const ROLES: Record<FleetRole, (config: FleetChildConfig) => Promise<Handlers>> = {
  available,
  member,
  inflight,
  observer: (config) => observer(config, send),
  caller,
};

const config = JSON.parse(process.argv[2] ?? '{}') as FleetChildConfig;
const setup = ROLES[config.role];
if (setup === undefined) throw new Error(`unknown role ${String(config.role)}`);
const handlers = await setup(config);

process.on('message', (message: FleetRequest) => {
  const handler = handlers[message.cmd];
  void (async () => {
    try {
      if (handler === undefined) throw new Error(`unknown command ${message.cmd}`);
      const result: unknown = await handler(message);
      send({ id: message.id, ok: true, result: result ?? null });
      if (message.cmd === 'close') process.disconnect();
    } catch (error) {
      send({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  })();
});
send({ ready: true });
