// One member of a fleet for test/fleet.redis.test.ts: a Brama on a Redis store, in its own
// process, driven by the test over IPC. Imports the BUILT package by its name (self-reference
// through package.json `exports`: dist/index.js and dist/redis/index.js).
//
// argv[2]: JSON { url | cluster, prefix, options } (options: the Brama options; cluster: the
// startup nodes of a Redis Cluster, given to the store as an ioredis Cluster client).
// Messages in: { id, cmd, ...args }. Messages out: { id, ok: true, result } or
// { id, ok: false, error } for each command; { ready: true, degraded } once subscribed;
// { event } for every transition and store-health event, in the order they were emitted.
// It never calls process.exit: after `close` it disconnects from the parent and must then exit
// by itself (nothing of brama may keep it alive).
import process from 'node:process';
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { Brama } from 'brama';
import { createRedisStore } from 'brama/redis';

const config = JSON.parse(process.argv[2] ?? '{}');
// A cluster client is the application's: the store uses it and never closes it.
const cluster = Array.isArray(config.cluster)
  ? new Cluster(config.cluster, { enableAutoPipelining: true })
  : null;
cluster?.on('error', () => {});
const store = createRedisStore({
  ...(cluster === null ? { url: config.url } : { client: cluster }),
  prefix: config.prefix,
  commandTimeout: 2000,
});
const brama = new Brama({ ...config.options, store });

const EVENTS = [
  'state_change',
  'circuit_opened',
  'circuit_half_opened',
  'circuit_closed',
  'circuit_reset',
  'store_degraded',
  'store_recovered',
];

function send(message, callback) {
  if (process.connected) process.send(message, callback);
}

brama.subscribe(
  (event) => {
    const data = event.data ?? {};
    const status = data.status;
    send({
      event: {
        type: event.type,
        identifier: event.identifier,
        origin: data.origin ?? null,
        cause: data.cause ?? null,
        from: data.from ?? null,
        to: data.to ?? null,
        reason: data.reason == null ? null : String(data.reason),
        error: data.error === undefined ? null : String(data.error),
        state: status?.state ?? null,
        failureCount: status?.failureCount ?? null,
        totalFailures: status?.totalFailures ?? null,
      },
    });
  },
  { events: EVENTS },
);

/** Waits until the wall clock reaches `at` (epoch ms): a start barrier shared by the fleet. */
async function startAt(at) {
  if (typeof at === 'number' && at > Date.now()) await sleep(at - Date.now());
}

const commands = {
  register({ identifier, identifiers }) {
    for (const id of identifiers ?? []) brama.register(id);
    return brama.register(identifier);
  },
  async flush({ identifier }) {
    await store.flush();
    return identifier === undefined ? null : brama.status(identifier);
  },
  status({ identifier }) {
    return brama.status(identifier);
  },
  /** `count` failures, `batch` per tick (each tick's commands travel as one pipeline). */
  async failures({ identifier, count, batch = 1, at, tag = 'failure' }) {
    await startAt(at);
    for (let i = 0; i < count; i++) {
      brama.failure(identifier, { reason: `${tag} ${i}` });
      if ((i + 1) % batch === 0) await nextTick();
    }
    await store.flush();
    return brama.status(identifier);
  },
  async success({ identifier }) {
    brama.success(identifier);
    await store.flush();
    return brama.status(identifier);
  },
  async open({ identifier, reason }) {
    brama.openCircuit(identifier, { reason });
    await store.flush();
    return brama.status(identifier);
  },
  /** Polls the local view (no I/O) until it is in `state`; resolves with the status either way. */
  async until({ identifier, state, timeoutMs }) {
    const deadline = Date.now() + timeoutMs;
    let status = brama.status(identifier);
    while (status.state !== state && Date.now() < deadline) {
      await sleep(5);
      status = brama.status(identifier);
    }
    return status;
  },
  /** Calls isAvailable (flushing in between) until `until` (epoch ms); counts the admissions. */
  async probe({ identifier, at, until }) {
    await startAt(at);
    let calls = 0;
    let admitted = 0;
    while (Date.now() < until) {
      calls++;
      if (brama.isAvailable(identifier)) admitted++;
      await store.flush();
      await sleep(2);
    }
    return { calls, admitted, status: brama.status(identifier) };
  },
  async close() {
    await brama.close();
    await cluster?.quit();
    return null;
  },
  /** `count` failures on each of `identifiers`, `batch` per tick; the statuses afterwards. */
  async spread({ identifiers, count, batch = 1, at }) {
    await startAt(at);
    let errors = 0;
    for (let i = 0; i < count; i++) {
      for (const identifier of identifiers) {
        try {
          brama.failure(identifier, { reason: `spread ${i}` });
        } catch {
          errors++;
        }
      }
      if ((i + 1) % batch === 0) await nextTick();
    }
    await store.flush();
    return { errors, statuses: identifiers.map((identifier) => brama.status(identifier)) };
  },
  /** Wrapped calls on each of `identifiers` until `until`; how they ended. */
  async calls({ identifiers, until }) {
    const ends = { ok: 0, refused: 0, other: [] };
    while (Date.now() < until) {
      for (const identifier of identifiers) {
        try {
          await brama.run(identifier, () => Promise.resolve('value'));
          ends.ok++;
        } catch (error) {
          if (error?.code === 'BRAMA_CIRCUIT_OPEN') ends.refused++;
          else ends.other.push(String(error));
        }
      }
      await sleep(5);
    }
    return ends;
  },
};

process.on('message', (message) => {
  const { id, cmd, ...args } = message;
  Promise.resolve()
    .then(() => {
      const command = commands[cmd];
      if (command === undefined) throw new Error(`unknown command ${cmd}`);
      return command(args);
    })
    .then(
      (result) => send({ id, ok: true, result }, cmd === 'close' ? () => disconnect() : undefined),
      (error) => send({ id, ok: false, error: String(error?.stack ?? error) }),
    );
});

function disconnect() {
  if (process.connected) process.disconnect();
}

// The parent went away (crashed, or killed the test run): release everything so this process
// ends too instead of lingering with open Redis connections.
process.on('disconnect', () => {
  void brama.close();
});

await store.ready();
send({ ready: true, degraded: store.degraded });
