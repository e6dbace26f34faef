import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings, type CircuitOptions, type CircuitSettings } from '../../core/settings.js';
import type { ConnectionRef } from './commands.js';
import { connectionKeys } from './keys.js';
import type { ScriptReply, ScriptResult } from './reply.js';
import { RedisFixture, redisUrl } from './redis-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

/** The reply of a connection that exists. */
function ok(reply: ScriptReply): ScriptResult {
  if (!reply.found) throw new Error('expected the connection to exist');
  return reply;
}

function settings(options: CircuitOptions): CircuitSettings {
  return resolveSettings({}, options);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeRedis('redis scripts', () => {
  let fx: RedisFixture;
  let n = 0;
  const ref = (): ConnectionRef => ({ identifier: `conn-${++n}`, scope: 'tests' });

  beforeAll(async () => {
    fx = new RedisFixture(redisUrl!, 4);
    await fx.ready();
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  it('register creates once and never resets existing state', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 3 });
    const first = ok(await fx.main.register(c, { maxAttempts: 3 }, { team: 'a' }));
    expect(first.flag).toBe(true);
    expect(first.connection.circuit.state).toBe('unknown');
    expect(first.connection.registeredAt).toBe(first.now);
    await fx.main.report(c, s, 'failure', 'boom', null);
    const before = ok(await fx.main.report(c, s, 'failure', null, null)).connection;

    const again = ok(await fx.scripts[1]!.register(c, { maxAttempts: 9 }, { team: 'b' }));
    expect(again.flag).toBe(false);
    expect(again.connection.circuit).toEqual(before.circuit);
    expect(again.connection.totalFailures).toBe(2);
    expect(again.connection.registeredAt).toBe(first.now);
    expect(again.connection.options).toEqual({ maxAttempts: 3 });
    expect(again.connection.metadata).toEqual({ team: 'a' });
    expect(again.connection.lastActivityAt).toBe(again.now);
  });

  it('trips exactly once under 200 concurrent failures from 4 clients', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 50 });
    await fx.main.register(c, {}, {});
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fx.scripts[i % 4]!.report(c, s, 'failure', `e${i}`, null),
      ),
    );
    const results = replies.map(ok);
    const trips = results.filter((r) => r.transitioned && r.connection.circuit.state === 'open');
    expect(trips).toHaveLength(1);
    expect(trips[0]!.from).toBe('closed');
    expect(results.filter((r) => r.from === 'open')).toHaveLength(150);
    expect(results.filter((r) => r.from === 'open' && r.transitioned)).toHaveLength(0);
    const end = ok(await fx.main.read(c)).connection;
    expect(end.totalFailures).toBe(200);
    expect(end.circuit).toMatchObject({ state: 'open', failureCount: 50, openings: 1 });
    expect(end.circuit.generation).toBe(2); // unknown → closed, closed → open
  });

  it('grows progressive open periods per consecutive opening up to the cap', async () => {
    const c = ref();
    const s = settings({
      maxAttempts: 1,
      expiryStrategy: 'progressive',
      initialExpiry: 50,
      backoffFactor: 2,
      maxExpiry: 400,
    });
    await fx.main.register(c, {}, {});
    const periods: number[] = [];
    for (let opening = 1; opening <= 6; opening++) {
      if (opening > 1) await fx.main.act(c, s, 'force_half_open', null);
      const r = ok(await fx.main.report(c, s, 'failure', null, null));
      expect(r.transitioned).toBe(true);
      expect(r.connection.circuit.openings).toBe(opening);
      expect(r.connection.circuit.openedAt).toBe(r.now);
      periods.push(r.connection.circuit.openUntil! - r.connection.circuit.openedAt!);
    }
    expect(periods).toEqual([50, 100, 200, 400, 400, 400]);

    // A success in half-open closes and resets the progression.
    await fx.main.act(c, s, 'force_half_open', null);
    const closed = ok(await fx.main.report(c, s, 'success', null, null)).connection.circuit;
    expect(closed).toMatchObject({ state: 'closed', openings: 0, failureCount: 0 });
    const r = ok(await fx.main.report(c, s, 'failure', null, null)).connection.circuit;
    expect(r.openUntil! - r.openedAt!).toBe(50);
  });

  it('half-opens lazily, dated at openUntil, and a half-open failure re-opens', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 1, expiry: 40.5 });
    await fx.main.register(c, {}, {});
    const open = ok(await fx.main.report(c, s, 'failure', null, null)).connection.circuit;
    expect(open.openUntil).toBe(open.openedAt! + 40.5);
    await sleep(60);
    const read = ok(await fx.main.read(c));
    expect(read.expired).toBe(true);
    expect(read.connection.circuit).toMatchObject({
      state: 'half_open',
      openUntil: null,
      changedAt: open.openUntil,
      generation: open.generation + 1,
    });
    expect(ok(await fx.main.read(c)).expired).toBe(false); // recorded once
    const again = ok(await fx.main.report(c, s, 'failure', null, null));
    expect(again).toMatchObject({ from: 'half_open', transitioned: true });
    expect(again.connection.circuit).toMatchObject({ state: 'open', openings: 2, failureCount: 2 });
  });

  it('leases at most halfOpenProbes trials fleet-wide; leases free on timeout or outcome', async () => {
    const c = ref();
    const s = settings({ halfOpenProbes: 2, probeTimeout: 150 });
    await fx.main.register(c, {}, {});
    await fx.main.act(c, s, 'force_half_open', null);
    const tokens = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const replies = (
      await Promise.all(tokens.map((t, i) => fx.scripts[i % 4]!.acquireTrial(c, s, t)))
    ).map(ok);
    const admitted = tokens.filter((_, i) => replies[i]!.flag);
    expect(admitted).toHaveLength(2);
    for (const r of replies.filter((x) => !x.flag)) {
      expect(r.retryAfter).toBeGreaterThan(0);
      expect(r.retryAfter).toBeLessThanOrEqual(150);
    }
    expect(ok(await fx.main.read(c)).connection.liveTrials).toBe(2);

    // An ignored outcome with its token frees exactly that lease.
    const ignored = ok(await fx.main.report(c, s, 'ignore', null, admitted[0]!));
    expect(ignored.connection.liveTrials).toBe(1);
    expect(ignored.connection.circuit.state).toBe('half_open');
    expect(ok(await fx.main.acquireTrial(c, s, 'late')).flag).toBe(true);
    expect(ok(await fx.main.acquireTrial(c, s, 'refused')).flag).toBe(false);

    // Unanswered leases free their slot after probeTimeout.
    await sleep(170);
    expect(ok(await fx.main.read(c)).connection.liveTrials).toBe(0);
    expect(ok(await fx.main.acquireTrial(c, s, 'after-1')).flag).toBe(true);
    expect(ok(await fx.main.acquireTrial(c, s, 'after-2')).flag).toBe(true);
    expect(ok(await fx.main.acquireTrial(c, s, 'after-3')).flag).toBe(false);

    // A success closes the circuit and drops every lease.
    const done = ok(await fx.main.report(c, s, 'success', null, 'after-1'));
    expect(done).toMatchObject({ from: 'half_open', transitioned: true });
    expect(done.connection.liveTrials).toBe(0);
    expect(await fx.redis.exists(connectionKeys(fx.prefix, c.identifier, c.scope).trials)).toBe(0);
  });

  it('uses the core boundaries: open until now >= openUntil, a lease live while now < expiry', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 1, expiry: 5, probeTimeout: 5 });
    await fx.main.register(c, {}, {});
    const open = ok(await fx.main.report(c, s, 'failure', null, null)).connection.circuit;
    for (;;) {
      const r = ok(await fx.main.read(c));
      if (r.now < open.openUntil!) {
        expect(r.connection.circuit.state).toBe('open');
        continue;
      }
      expect(r.connection.circuit.state).toBe('half_open');
      break;
    }
    const first = ok(await fx.main.acquireTrial(c, s, 'first'));
    expect(first.flag).toBe(true);
    for (let i = 0; ; i++) {
      const r = ok(await fx.main.acquireTrial(c, s, `next-${i}`));
      if (r.now - first.now < 5) {
        expect(r.flag).toBe(false);
        expect(r.retryAfter).toBe(first.now + 5 - r.now);
        continue;
      }
      expect(r.flag).toBe(true);
      break;
    }
  });

  it('a report while open only updates totals and last report times', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 1, expiry: 60_000 });
    await fx.main.register(c, {}, {});
    const open = ok(await fx.main.report(c, s, 'failure', 'trip', null)).connection;
    const success = ok(await fx.main.report(c, s, 'success', null, null));
    const failure = ok(await fx.main.report(c, s, 'failure', 'late', null));
    for (const r of [success, failure]) {
      expect(r).toMatchObject({ from: 'open', transitioned: false });
      expect(r.connection.circuit).toEqual(open.circuit);
    }
    expect(failure.connection).toMatchObject({
      totalFailures: 2,
      totalSuccesses: 1,
      lastSuccessTime: success.now,
      lastFailureTime: failure.now,
      lastFailureReason: 'late',
    });
  });

  it('manual open takes a one-off expiry; re-opening does not count an opening', async () => {
    const c = ref();
    const s = settings({ expiry: 1_000 });
    await fx.main.register(c, {}, {});
    const first = ok(await fx.main.act(c, s, 'open', 123.5));
    expect(first).toMatchObject({ from: 'unknown', transitioned: true });
    const a = first.connection.circuit;
    expect(a).toMatchObject({ state: 'open', openings: 1, changedAt: first.now });
    expect(a.openUntil! - a.openedAt!).toBe(123.5);
    const second = ok(await fx.main.act(c, s, 'open', null));
    const b = second.connection.circuit;
    expect(second).toMatchObject({ from: 'open', transitioned: false });
    expect(b).toMatchObject({ openings: 1, changedAt: a.changedAt, generation: a.generation + 1 });
    expect(b.openUntil! - b.openedAt!).toBe(1_000);
    const reset = ok(await fx.main.act(c, s, 'reset', null)).connection.circuit;
    expect(reset).toMatchObject({ state: 'closed', openings: 0, openUntil: null });
    expect(reset.openedAt).toBe(b.openedAt); // kept, like the core
  });

  it('bumps generation on every transition and manual action, and only then', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 2 });
    let gen = ok(await fx.main.register(c, {}, {})).connection.circuit.generation;
    const step = async (reply: Promise<ScriptReply>, bumps: boolean): Promise<void> => {
      const next = ok(await reply).connection.circuit.generation;
      expect(next).toBe(bumps ? gen + 1 : gen);
      gen = next;
    };
    await step(fx.main.report(c, s, 'success', null, null), true); // unknown → closed
    await step(fx.main.report(c, s, 'success', null, null), false);
    await step(fx.main.report(c, s, 'failure', null, null), false);
    await step(fx.main.report(c, s, 'failure', null, null), true); // → open
    await step(fx.main.report(c, s, 'failure', null, null), false); // while open
    await step(fx.main.act(c, s, 'force_half_open', null), true);
    await step(fx.main.report(c, s, 'ignore', null, null), false);
    await step(fx.main.report(c, s, 'success', null, null), true); // → closed
    await step(fx.main.act(c, s, 'close', null), true); // manual action on closed
    await step(fx.main.read(c), false);
  });

  it('refreshes the TTL from lastActivityAt; reads do not count as activity', async () => {
    const c = ref();
    const s = settings({});
    const { state } = connectionKeys(fx.prefix, c.identifier, c.scope);
    const reg = ok(await fx.main.register(c, {}, {}));
    expect(await fx.redis.pexpiretime(state)).toBe(reg.now + 600_000);
    await sleep(5);
    const rep = ok(await fx.main.report(c, s, 'success', null, null));
    expect(await fx.redis.pexpiretime(state)).toBe(rep.now + 600_000);
    await sleep(5);
    await fx.main.read(c);
    await fx.main.acquireTrial(c, s, 'x');
    expect(await fx.redis.pexpiretime(state)).toBe(rep.now + 600_000);
  });

  it('delete removes both keys', async () => {
    const c = ref();
    const s = settings({});
    await fx.main.register(c, {}, {});
    await fx.main.act(c, s, 'force_half_open', null);
    await fx.main.acquireTrial(c, s, 'lease');
    const keys = connectionKeys(fx.prefix, c.identifier, c.scope);
    expect(await fx.redis.exists(keys.state, keys.trials)).toBe(2);
    expect(await fx.main.delete(c)).toBe(true);
    expect(await fx.redis.exists(keys.state, keys.trials)).toBe(0);
    expect(await fx.main.delete(c)).toBe(false);
    expect((await fx.main.read(c)).found).toBe(false);
    expect((await fx.main.report(c, s, 'failure', null, null)).found).toBe(false);
    expect((await fx.main.acquireTrial(c, s, 't')).found).toBe(false);
    expect((await fx.main.act(c, s, 'open', null)).found).toBe(false);
    expect(await fx.redis.exists(keys.state, keys.trials)).toBe(0);
  });

  it('falls back to EVAL when Redis has lost the scripts (NOSCRIPT)', async () => {
    const c = ref();
    await fx.main.register(c, {}, {});
    await fx.redis.script('FLUSH');
    expect(ok(await fx.main.read(c)).connection.circuit.state).toBe('unknown');
    await fx.redis.script('FLUSH');
    expect(ok(await fx.scripts[2]!.register(c, {}, {})).flag).toBe(false);
  });
});
