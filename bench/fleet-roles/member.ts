/**
 * Role `member`: one process of a fleet reporting outcomes as fast as it can on its connections
 * (shared with the other members: same prefix), and the same process sending the baselines
 * instead: one pipelined `HINCRBY` per report, or one trivial `EVALSHA` (a script doing one
 * `HINCRBY`) per report.
 *
 * Every subject issues `perTick` operations per tick, spread over the connections in turn, then
 * awaits them all (brama: `await store.flush()`, every reply applied to the local view): a
 * closed loop per process; the fleet's processes keep Redis and the cores busy together.
 */
import { Brama } from 'brama';
import { createRedisStore } from 'brama/redis';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clockMs,
  connectionIds,
  counterKey,
  FAILURE_PASS_EVERY,
  MEMBER_COMMAND_TIMEOUT_MS,
  type FleetChildConfig,
} from '../fleet-protocol.js';
import { NEVER_TRIPS } from '../peers.js';
import { degradedReasons, gc, threadCpuSeconds, type Handlers } from './common.js';

/** Connections registered (and closed) per round trip while setting up. */
const SETUP_CHUNK = 100;

/** The baselines' trivial script: one `HINCRBY` (ioredis sends EVALSHA, EVAL on NOSCRIPT). */
const HINCRBY_LUA = "return redis.call('HINCRBY', KEYS[1], 'n', 1)";
const SCRIPT_COMMAND = 'benchHincrby';

export async function member(config: FleetChildConfig): Promise<Handlers> {
  const perTick = config.perTick ?? 1_000;
  const ids = connectionIds(config.connections ?? 10);
  const n = ids.length;
  // A longer watchdog than the default 1 s: saturated on purpose (four processes and Redis on
  // the machine's cores), a member waits up to about a second for the first answer of a tick,
  // and the default would put the store in degraded mode mid-measurement (BENCHMARKS.md).
  const store = createRedisStore({
    url: config.url,
    prefix: config.prefix,
    commandTimeout: MEMBER_COMMAND_TIMEOUT_MS,
  });
  const brama = new Brama({ store });
  const whyDegraded = degradedReasons(brama);
  await store.ready();
  if (store.degraded) throw new Error('the Redis store is degraded after ready()');
  // Registered and closed once (unknown → closed: a transition, announced to every member, each
  // of which reads it back) before anything is measured, SETUP_CHUNK connections at a time: the
  // members start together, and 1,000 registrations plus 1,000 transitions sent at once by each
  // of 4 processes leave the first of them unanswered longer than `commandTimeout` (the store
  // would start degraded; see BENCHMARKS.md).
  for (let i = 0; i < n; i += SETUP_CHUNK) {
    for (const id of ids.slice(i, i + SETUP_CHUNK)) {
      brama.register(id, { maxAttempts: NEVER_TRIPS });
      brama.success(id);
    }
    await store.flush();
  }
  await sleep(500);
  await store.flush();
  if (store.degraded) throw new Error(`the Redis store is degraded after setup: ${whyDegraded()}`);

  // The baselines run on a client configured as the store's own (auto-pipelining: one tick's
  // commands leave as one write).
  const client = new Redis(config.url, { enableAutoPipelining: true });
  client.defineCommand(SCRIPT_COMMAND, { numberOfKeys: 1, lua: HINCRBY_LUA });
  const script = Reflect.get(client, SCRIPT_COMMAND) as (key: string) => Promise<number>;
  const counters = ids.map((id) => counterKey(config.prefix, id));

  let next = 0;
  let pass = 0;
  // One loop per subject, so each loop's call sites stay monomorphic.
  const ticks: Record<string, () => Promise<void>> = {
    brama: async () => {
      for (let k = 0; k < perTick; k++) {
        const id = ids[next]!;
        if (pass % FAILURE_PASS_EVERY === 0) brama.failure(id);
        else brama.success(id);
        if (++next === n) {
          next = 0;
          pass++;
        }
      }
      await store.flush();
    },
    hincrby: async () => {
      const replies: Promise<number>[] = [];
      for (let k = 0; k < perTick; k++) {
        replies.push(client.hincrby(counters[next]!, 'n', 1));
        if (++next === n) next = 0;
      }
      await Promise.all(replies);
    },
    script: async () => {
      const replies: Promise<number>[] = [];
      for (let k = 0; k < perTick; k++) {
        replies.push(script.call(client, counters[next]!));
        if (++next === n) next = 0;
      }
      await Promise.all(replies);
    },
  };
  const tickOf = (subject: unknown): (() => Promise<void>) => {
    const tick = ticks[String(subject)];
    if (tick === undefined) throw new Error(`unknown subject ${String(subject)}`);
    return tick;
  };

  let background: { stop: boolean; reports: number; start: number; loop: Promise<void> } | null =
    null;

  return {
    /** Runs `subject` for `ms` (whole ticks); resolves what it did (fleet-protocol ReportWindow). */
    window: async ({ subject, ms }) => {
      const tick = tickOf(subject);
      gc();
      const mainBefore = threadCpuSeconds();
      const start = process.hrtime.bigint();
      const until = clockMs() + Number(ms);
      let ticksDone = 0;
      do {
        await tick();
        ticksDone++;
      } while (clockMs() < until);
      const ns = Number(process.hrtime.bigint() - start);
      const main = threadCpuSeconds() - mainBefore;
      if (store.degraded)
        throw new Error(`${String(subject)}: the Redis store became degraded: ${whyDegraded()}`);
      const reports = ticksDone * perTick;
      return { reports, ns, mainCpuUs: (main * 1e6) / reports };
    },
    /** Reports (brama) until `stop`: background load for the propagation measurement. */
    background: () => {
      if (background !== null) throw new Error('already reporting in the background');
      const state = { stop: false, reports: 0, start: performance.now(), loop: Promise.resolve() };
      state.loop = (async () => {
        while (!state.stop) {
          await ticks.brama!();
          state.reports += perTick;
        }
      })();
      background = state;
      return null;
    },
    /** Stops the background load; resolves its rate (reports per second). */
    stop: async () => {
      if (background === null) throw new Error('not reporting in the background');
      const state = background;
      background = null;
      state.stop = true;
      await state.loop;
      if (store.degraded)
        throw new Error(`background: the Redis store became degraded: ${whyDegraded()}`);
      return (state.reports * 1e3) / (performance.now() - state.start);
    },
    close: async () => {
      await brama.close();
      client.disconnect();
    },
  };
}
