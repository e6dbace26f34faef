// Child process of test/faults.redis.test.ts: uses the built package (dist/) by name against a
// redis-server that it SIGKILLs mid-run, then closes brama. It records every unhandled
// rejection (and fails through process.exitCode) and never calls process.exit(): the parent
// checks that the process ends by itself.
//
// Environment: FAULT_REDIS_URL, FAULT_REDIS_PID (the redis-server to kill), FAULT_PREFIX.
import assert from 'node:assert/strict';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { Brama, CircuitOpenError, isBramaError } from 'brama';
import { createRedisStore } from 'brama/redis';

const DEADLINE_MS = 2_000;

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection: ${String(reason?.stack ?? reason)}\n`);
  process.exitCode = 1;
});

/** Rejects when `promise` has not settled within `ms` (the timer never holds the loop). */
async function within(promise, what, ms = DEADLINE_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function eventually(check, what) {
  const deadline = performance.now() + DEADLINE_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS} ms`);
    await sleep(10);
  }
}

const own = new Error('own failure');

/** A wrapped call: its own result, its own error or CircuitOpenError, never anything else. */
async function call(i) {
  try {
    return await within(
      brama.run('db', async () => {
        await sleep(i % 5);
        if (i % 4 === 0) throw own;
        return i;
      }),
      `run #${i}`,
    );
  } catch (error) {
    if (error === own || error instanceof CircuitOpenError) return error;
    throw error;
  }
}

const store = createRedisStore({
  url: process.env.FAULT_REDIS_URL,
  prefix: process.env.FAULT_PREFIX,
  // Longer than the other tests': close() waits this long for QUIT while Redis is down.
  commandTimeout: 1_000,
  recoveryInterval: 100,
});
const brama = new Brama({ store, maxAttempts: 3, expiry: 60_000 });
let degraded = 0;
brama.subscribe(() => void degraded++, { events: ['store_degraded'] });

await within(store.ready(), 'ready');
assert.equal(store.degraded, false, 'the store starts healthy');
brama.register('db');
for (let i = 1; i <= 10; i++) assert.equal(await call(i), i % 4 === 0 ? own : i);
await within(store.flush(), 'flush');

// Mid-run: calls in flight, reports on their way to Redis, then Redis dies.
const inFlight = Array.from({ length: 40 }, (_, i) => call(i + 1));
process.kill(Number(process.env.FAULT_REDIS_PID), 'SIGKILL');
const killedAt = performance.now();
const more = Array.from({ length: 40 }, (_, i) => call(i + 41));
await Promise.all([...inFlight, ...more]);

await eventually(() => degraded > 0, 'store_degraded');
for (let i = 0; i < 3; i++) brama.failure('db', { reason: 'down' });
assert.equal(brama.status('db').state, 'open', 'failures trip the circuit locally');
assert.equal(brama.isAvailable('db'), false);
const refused = await call(81);
assert.ok(isBramaError(refused, 'BRAMA_CIRCUIT_OPEN'), `refused: ${String(refused)}`);

// Close while the clients are still reconnecting, after the first recovery probe (which runs
// recoveryInterval after store_degraded) has queued its PING: close() may then wait up to
// commandTimeout for QUIT while ioredis keeps retrying (every few hundred ms), so reconnect
// attempts fail during close(). Scenario setup, not synchronisation.
await sleep(Math.max(0, 250 - (performance.now() - killedAt)));
// close() waits at most commandTimeout for pending replies, then commandTimeout for QUIT.
await within(brama.close(), 'close', 3_000);
process.stdout.write('closed\n');
// No process.exit(): the parent checks that nothing keeps the process alive.
