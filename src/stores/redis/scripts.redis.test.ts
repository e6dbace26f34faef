import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings, type CircuitOptions, type CircuitSettings } from '../../core/settings.js';
import { RedisScripts, type ConnectionRef } from './commands.js';
import { addOutcome, emptyBatch } from '../../core/outcome-batch.js';
import { changesChannel, connectionKeys, connectionTag } from './keys.js';
import type { ReportReply, ScriptResult } from './reply.js';
import { RedisFixture, redisUrl } from './redis-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

/** The reply of a connection that exists. */
function ok(reply: ReportReply): ScriptResult {
  if (reply.found !== true)
    throw new Error(`expected the whole connection, got ${String(reply.found)}`);
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
    const step = async (reply: Promise<ReportReply>, bumps: boolean): Promise<void> => {
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

  it('moves the expiry with activity, with a slack of ttl/16; reads do not count as activity', async () => {
    const c = ref();
    const s = settings({});
    const { state, trials } = connectionKeys(fx.prefix, c.identifier, c.scope);
    const slack = 600_000 / 16;
    const reg = ok(await fx.main.register(c, {}, {}));
    expect(await fx.redis.pexpiretime(state)).toBe(reg.now + 600_000 + slack);
    const lean = new RedisScripts(fx.redis, {
      prefix: fx.prefix,
      ttlMs: 600_000,
      announceEvery: 60_000,
    });
    const first = ok(await lean.report(c, s, 'success', null, null)); // announces: full path
    expect(await fx.redis.pexpiretime(state)).toBe(first.now + 600_000 + slack);
    await sleep(5);
    // Still past lastActivityAt + ttl: left as it is (no PEXPIREAT on every report).
    expect(await lean.report(c, s, 'success', null, null)).toMatchObject({ found: 'lean' });
    expect(await fx.redis.pexpiretime(state)).toBe(first.now + 600_000 + slack);
    // Once it would fall short, it moves to lastActivityAt + ttl + slack again (the script
    // knows the expiry it set from the hash: pretend an earlier one).
    await fx.redis.pexpireat(state, reg.now + 600_000);
    await fx.redis.hset(state, 'expiresAt', String(reg.now + 600_000));
    const rep = await lean.report(c, s, 'success', null, null);
    expect(await fx.redis.pexpiretime(state)).toBe(rep.now + 600_000 + slack);
    expect(await fx.redis.pexpiretime(trials)).toBe(-2); // no leases: no key
    await sleep(5);
    await fx.main.read(c);
    await fx.main.acquireTrial(c, s, 'x');
    expect(await fx.redis.pexpiretime(state)).toBe(rep.now + 600_000 + slack);
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
  it('applies a command once per process and sequence number (resends change nothing)', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 10 });
    await fx.main.register(c, {}, {});
    const dup = (reply: ReportReply): boolean => reply.found !== false && reply.duplicate;
    expect(dup(await fx.main.report(c, s, 'failure', 'a', null, null, 5))).toBe(false);
    expect(dup(await fx.main.report(c, s, 'failure', 'a', null, null, 5))).toBe(true);
    expect(dup(await fx.main.report(c, s, 'failure', 'a', null, null, 4))).toBe(true);
    expect(dup(await fx.main.act(c, s, 'open', null, null, 3))).toBe(true);
    expect(dup(await fx.main.report(c, s, 'failure', 'a', null, null, 6))).toBe(false);
    // Another process's numbers are its own.
    const other = ok(await fx.scripts[1]!.report(c, s, 'failure', 'b', null, null, 5));
    expect(other.duplicate).toBe(false);
    expect(other.connection).toMatchObject({ totalFailures: 3 });
    expect(other.connection.circuit).toMatchObject({ state: 'closed', failureCount: 3 });
    // Unnumbered commands are never taken for resends.
    expect(ok(await fx.main.report(c, s, 'success', null, null)).connection.totalSuccesses).toBe(1);
  });

  it('a replayed report counts in the totals only', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 1 });
    await fx.main.register(c, {}, {});
    const replayed = ok(await fx.main.report(c, s, 'failure', 'late', null, null, 1, 'totals'));
    expect(replayed.connection).toMatchObject({ totalFailures: 1, lastFailureReason: 'late' });
    expect(replayed.connection.circuit.state).toBe('unknown');
  });

  it('sync rebuilds a lost connection from seeds in any order, adding each delta once', async () => {
    const now = ok(await fx.main.register(ref(), {}, {})).now;
    const seedA = {
      born: 1, state: 'open', failureCount: 3, openedAt: now, openUntil: now + 60_000,
      openings: 1, changedAt: now, totalFailures: 5, totalSuccesses: 1,
      lastFailureTime: now - 10, lastFailureReason: 'a', lastSuccessTime: now - 20,
    }; // prettier-ignore
    const seedB = {
      ...seedA, state: 'closed', failureCount: 1, openUntil: null, openings: 0,
      totalFailures: 4, totalSuccesses: 3, lastFailureReason: 'b',
    }; // prettier-ignore
    const deltaA = {
      successes: 0, failures: 2, lastFailureTime: now + 5, lastFailureReason: 'a late',
      lastSuccessTime: null,
    }; // prettier-ignore
    const deltaB = { ...deltaA, successes: 1, failures: 0, lastFailureTime: null, lastFailureReason: null, lastSuccessTime: now + 1 }; // prettier-ignore
    const results = [];
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      const c = ref();
      const sends = [
        () => fx.scripts[0]!.sync(c, {}, {}, seedA, deltaA, 7),
        () => fx.scripts[1]!.sync(c, {}, {}, seedB, deltaB, 7),
      ];
      const first = ok(await sends[order[0]!]!());
      expect(first.flag).toBe(true); // created
      await sends[order[1]!]!();
      // Resent (same numbers): nothing is added twice.
      await sends[0]!();
      const last = ok(await sends[1]!());
      expect(last.duplicate).toBe(true);
      const { circuit, totalFailures, totalSuccesses, lastFailureReason } = last.connection;
      results.push({ circuit: { ...circuit, changedAt: 0, generation: 0 }, totalFailures, totalSuccesses, lastFailureReason }); // prettier-ignore
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toMatchObject({
      circuit: { state: 'open', failureCount: 3, openUntil: now + 60_000, openings: 1 },
      totalFailures: 7, // the highest seen (5) plus A's 2
      totalSuccesses: 4, // the highest seen (3) plus B's 1
      lastFailureReason: 'a late',
    });
  });

  it('sync on a connection Redis kept: Redis wins, the delta goes to the totals only', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 2 });
    const reg = ok(await fx.main.register(c, {}, {}));
    await fx.main.report(c, s, 'success', null, null);
    const seed = {
      born: reg.connection.registeredAt, state: 'open', failureCount: 2, openedAt: reg.now,
      openUntil: reg.now + 60_000, openings: 1, changedAt: reg.now, totalFailures: 9,
      totalSuccesses: 0, lastFailureTime: null, lastFailureReason: null, lastSuccessTime: null,
    }; // prettier-ignore
    const delta = { successes: 0, failures: 3, lastFailureTime: reg.now + 1, lastFailureReason: 'offline', lastSuccessTime: null }; // prettier-ignore
    const synced = ok(await fx.main.sync(c, {}, {}, seed, delta, 1));
    expect(synced.flag).toBe(false);
    expect(synced.connection.circuit).toMatchObject({ state: 'closed', failureCount: 0 });
    expect(synced.connection).toMatchObject({ totalFailures: 3, totalSuccesses: 1 });
    // With nothing to add, sync is a read: no new version, no announcement.
    const again = ok(await fx.main.sync(c, {}, {}, seed, null, 2));
    expect(again.announced).toBe(false);
    expect(again.connection.version).toBe(synced.connection.version);
  });

  it('an open connection does not expire before its open period has ended', async () => {
    const c = ref();
    const fixture = new RedisFixture(redisUrl!, 1, 1_000);
    try {
      const s = settings({ maxAttempts: 1, expiry: 60_000 });
      await fixture.main.register(c, {}, {});
      const open = ok(await fixture.main.report(c, s, 'failure', null, null));
      const { state } = connectionKeys(fixture.prefix, c.identifier, c.scope);
      expect(await fixture.redis.pexpiretime(state)).toBe(
        open.now + 60_000 + 1_000 + Math.floor(1_000 / 16),
      );
    } finally {
      await fixture.dispose();
    }
  });

  it('reports announce counters at most once per interval; the trailing one refreshes when due', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 100 });
    const options = { prefix: fx.prefix, ttlMs: 600_000, announceEvery: 60_000 };
    const scripts = new RedisScripts(fx.redis, options);
    const heard: unknown[] = [];
    const sub = fx.redis.duplicate();
    sub.on('message', (_channel: string, payload: string) => heard.push(JSON.parse(payload)));
    await sub.subscribe(changesChannel(fx.prefix));
    /** The announcements published so far (a PING on the subscriber comes after them). */
    const announcements = async (): Promise<unknown[]> => {
      await sub.ping();
      return heard.splice(0);
    };
    try {
      await scripts.register(c, {}, {});
      const first = ok(await scripts.report(c, s, 'failure', null, null)); // unknown → closed
      expect(first.announced).toBe(true);
      expect(await announcements()).toMatchObject([{ kind: 'failure' }]);
      // Within the interval, a report that moves no state gets the lean answer, unannounced;
      // the first one after the announcement is the trailing one.
      const lean = await scripts.report(c, s, 'failure', 'slow', null);
      expect(lean).toMatchObject({
        found: 'lean',
        duplicate: false,
        state: 'closed',
        failureCount: 2,
        totalFailures: 2,
        totalSuccesses: 0,
        announced: false,
        trailing: true,
        due: first.now + 60_000,
      });
      expect(await scripts.report(c, s, 'success', null, null)).toMatchObject({
        found: 'lean',
        failureCount: 0,
        announced: false,
        trailing: false,
        due: first.now + 60_000,
      });
      const stored = await fx.redis.hgetall(connectionKeys(fx.prefix, c.identifier, c.scope).state);
      expect(stored).toMatchObject({ failureCount: '0', totalFailures: '2', totalSuccesses: '1' });
      expect(stored.lastFailureReason).toBe('slow');
      expect(Number(stored.lastFailureTime)).toBe(lean.now);
      expect(await announcements()).toEqual([]);
      // Before the interval has passed, a refresh only answers with the counters.
      const early = await scripts.refresh(c);
      expect(early).toMatchObject({
        found: 'counters',
        announced: false,
        registeredAt: first.connection.registeredAt,
        version: first.connection.version + 2,
        state: 'closed',
        generation: first.connection.circuit.generation,
        failureCount: 0,
        totalFailures: 2,
        totalSuccesses: 1,
        lastFailureReason: 'slow',
        lastFailureTime: lean.now,
      });
      expect(await announcements()).toEqual([]);
      // Once due (an interval of 0 here), it announces them, once.
      const due = new RedisScripts(fx.redis, { ...options, announceEvery: 0 });
      const refreshed = await due.refresh(c);
      expect(refreshed).toMatchObject({ found: 'counters', announced: true, totalSuccesses: 1 });
      expect(await announcements()).toEqual([
        {
          source: expect.any(String) as unknown,
          kind: 'counters',
          tag: connectionTag(c.identifier, c.scope),
          counters: [
            String(refreshed.now), '3', String(first.connection.registeredAt),
            String(first.connection.version + 2), 'closed',
            String(first.connection.circuit.generation), '0', '2', '1', String(lean.now),
            'slow', stored.lastSuccessTime, stored.lastActivityAt, '1',
          ], // prettier-ignore
        },
      ]);
      expect(await due.refresh(c)).toMatchObject({ found: 'counters', announced: false });
      // A lean report announces its counters itself when due.
      const announced = await due.report(c, s, 'failure', null, null);
      expect(announced).toMatchObject({ found: 'lean', announced: true, trailing: false });
      expect(await announcements()).toMatchObject([
        {
          kind: 'counters',
          counters: [
            String(announced.now), '3', String(first.connection.registeredAt),
            String(first.connection.version + 3), 'closed',
            String(first.connection.circuit.generation), '1', '3', '1', String(announced.now),
            false, stored.lastSuccessTime, String(announced.now), '1',
          ], // prettier-ignore
        },
      ]);
      expect(
        await fx.redis.hget(
          connectionKeys(fx.prefix, c.identifier, c.scope).state,
          'lastFailureReason',
        ),
      ).toBeNull();
    } finally {
      sub.disconnect();
    }
  });

  it('the lean path never hides a trip: a batch that would move the state takes the full path', async () => {
    const c = ref();
    const s = settings({ maxAttempts: 3 });
    const scripts = new RedisScripts(fx.redis, {
      prefix: fx.prefix,
      ttlMs: 600_000,
      announceEvery: 60_000,
    });
    await scripts.register(c, {}, {});
    await scripts.report(c, s, 'success', null, null); // unknown → closed (full)
    const batch = emptyBatch();
    for (const o of ['failure', 'success', 'failure', 'failure'] as const)
      addOutcome(batch, o, 'x');
    expect(await scripts.reportBatch(c, s, batch, null)).toMatchObject({
      found: 'lean',
      failureCount: 2,
    });
    const trip = emptyBatch();
    addOutcome(trip, 'failure', 'third');
    const tripped = ok(await scripts.reportBatch(c, s, trip, null));
    expect(tripped).toMatchObject({ transitioned: true, from: 'closed', announced: true });
    expect(tripped.connection.circuit).toMatchObject({ state: 'open', failureCount: 3 });
    // While open (and not expired), reports only count: lean again.
    expect(await scripts.report(c, s, 'failure', 'late', null)).toMatchObject({
      found: 'lean',
      state: 'open',
      totalFailures: 5,
    });
  });

  it('touch_trial makes a lease lapse probeTimeout after the call took it', async () => {
    const c = ref();
    const s = settings({ probeTimeout: 5_000 });
    await fx.main.register(c, {}, {});
    await fx.main.act(c, s, 'force_half_open', null);
    const leased = ok(await fx.main.acquireTrial(c, s, 'lease', 1_000));
    expect(leased.flag).toBe(true);
    const { trials } = connectionKeys(fx.prefix, c.identifier, c.scope);
    expect(Number(await fx.redis.zscore(trials, 'lease'))).toBe(leased.now + 6_000);
    await sleep(5);
    expect(await fx.main.touchTrial(c, 'lease', 5_000)).toBe(true);
    const touched = Number(await fx.redis.zscore(trials, 'lease'));
    expect(touched).toBeGreaterThan(leased.now + 5_000);
    expect(touched).toBeLessThan(leased.now + 6_000);
    expect(await fx.main.touchTrial(c, 'gone', 5_000)).toBe(false);
    expect(await fx.redis.zscore(trials, 'gone')).toBeNull();
  });
});
