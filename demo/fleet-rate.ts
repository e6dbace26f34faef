/**
 * brama fleet demo: ten instances of a service call a dependency that fails half of its calls.
 * Each instance makes 4 calls, too few to trip a 'rate' circuit on its own (minimumCalls 20),
 * first with the in-memory store (nothing trips), then sharing one Redis (the fleet trips
 * together on its combined evidence, and every instance refuses the next call).
 *
 * Each instance is a Brama with its own store, as separate processes would have (the Redis
 * stores talk to Redis only). Run with `npm run demo:fleet`; it needs a Redis at REDIS_URL
 * (default redis://127.0.0.1:6379) and deletes the keys it wrote.
 */
import { Brama, type BramaOptions, type TripRule } from '../src/index.js';
import { createRedisStore, type RedisStore } from '../src/redis.js';

const INSTANCES = 10;
const CALLS_EACH = 4;
const policy: BramaOptions = {
  tripPolicy: 'rate',
  failureRateThreshold: 0.5,
  minimumCalls: 20,
  window: { calls: 100 },
};

/** The dependency: every second call fails, whoever makes it. */
let calls = 0;
async function dependency(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 2));
  if (calls++ % 2 === 1) throw new Error('HTTP 500');
  return 'ok';
}

interface Instance {
  readonly brama: Brama;
  readonly store: RedisStore | null;
}

/** Each instance makes its calls; then reports what every instance sees. */
async function round(label: string, instances: readonly Instance[]): Promise<void> {
  let tripped: TripRule | null = null;
  instances[0]!.brama.subscribe((e) => {
    if (e.type === 'circuit_opened') tripped = e.data.trip;
  });
  for (const { brama } of instances) {
    for (let i = 0; i < CALLS_EACH; i++) await brama.run('inventory', dependency).catch(() => {});
  }
  for (const i of instances) if (i.store !== null) await i.store.flush();
  const states = instances.map((i) => i.brama.status('inventory').state);
  const open = states.filter((s) => s === 'open').length;
  const mine = instances[0]!.brama.status('inventory');
  console.log(`${label}`);
  console.log(
    `  ${INSTANCES} instances x ${CALLS_EACH} calls, half of them failed; instance 1's window: ` +
      `${mine.windowCalls} calls, failure rate ${mine.failureRate ?? 'n/a (below minimumCalls)'}`,
  );
  console.log(`  open in ${open} of ${INSTANCES} instances: ${states.join(' ')}`);
  if (tripped !== null) console.log(`  instance 1 saw it open: ${JSON.stringify(tripped)}`);
  const refused = instances.filter((i) => !i.brama.isAvailable('inventory')).length;
  console.log(`  the next call is refused by ${refused} of ${INSTANCES} instances\n`);
}

async function main(): Promise<void> {
  const alone = Array.from({ length: INSTANCES }, () => ({
    brama: new Brama(policy),
    store: null,
  }));
  for (const { brama } of alone) brama.register('inventory');
  await round('Each instance on its own (memory store):', alone);
  await Promise.all(alone.map((i) => i.brama.close()));

  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `brama-demo-${process.pid}`;
  const fleet: { brama: Brama; store: RedisStore }[] = [];
  for (let n = 0; n < INSTANCES; n++) {
    const store = createRedisStore({ url, prefix, keyTtl: 60_000 });
    const brama = new Brama({ ...policy, store });
    await store.ready();
    brama.register('inventory');
    fleet.push({ brama, store });
  }
  await Promise.all(fleet.map((i) => i.store.flush()));
  calls = 0;
  await round(`One fleet sharing Redis (${url.replace(/\/\/[^@/]*@/, '//')}):`, fleet);
  fleet[0]!.brama.unregister('inventory'); // deletes the shared keys
  await fleet[0]!.store.flush();
  await Promise.all(fleet.map((i) => i.brama.close()));
}

await main();
