// A running process of a fleet for src/cli/cli.redis.test.ts: a Brama on a Redis store that
// registers connections the CLI never registered, reports some outcomes, and prints every
// event as one JSON line on stdout. Imports the BUILT package by its name (run
// `npm run build` first). Ends when its stdin closes or on SIGTERM.
//
// argv[2]: JSON { url, prefix, connections: [{ identifier, scope?, failures?, successes?,
// options? }] }. Prints { ready: true } once every connection is registered and its reports
// are applied in Redis.
import process from 'node:process';
import { Brama } from 'brama';
import { createRedisStore } from 'brama/redis';

const config = JSON.parse(process.argv[2] ?? '{}');
const store = createRedisStore({ url: config.url, prefix: config.prefix });
const brama = new Brama({ store, maxAttempts: 100 });

const print = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

brama.subscribe(
  (event) => {
    const data = event.data ?? {};
    const status = data.status ?? {};
    print({
      event: {
        type: event.type,
        identifier: event.identifier,
        scope: event.scope,
        origin: data.origin ?? null,
        reason: data.reason == null ? null : String(data.reason),
        state: status.state ?? null,
        openedAt: status.openedAt ?? null,
        openUntil: status.openUntil ?? null,
      },
    });
  },
  { events: ['circuit_opened', 'circuit_closed', 'circuit_reset', 'circuit_half_opened'] },
);

await store.ready();
for (const c of config.connections ?? []) {
  brama.register(c.identifier, { scope: c.scope ?? null, ...(c.options ?? {}) });
  for (let i = 0; i < (c.successes ?? 0); i++) brama.success(c.identifier, { scope: c.scope });
  for (let i = 0; i < (c.failures ?? 0); i++)
    brama.failure(c.identifier, { scope: c.scope, reason: `boom ${i + 1}` });
}
await store.flush();
print({ ready: true });

const stop = () => {
  void brama.close().then(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
