import { describe, expect, it } from 'vitest';
import { createRecord } from '../../core/record.js';
import { NO_OPTIONS } from '../../core/settings.js';
import { circuit, NO_TRIALS } from '../../core/state.js';
import { connectionTag } from './keys.js';
import { parseAnnouncement } from './announcement.js';
import type { RemoteConnection } from './reply.js';
import {
  countOffline,
  createEntry,
  deltaOf,
  judgeAnswer,
  judgeHint,
  seedOf,
  writeRemote,
} from './view.js';

function remote(registeredAt: number, version: number, totalFailures = 0): RemoteConnection {
  return {
    circuit: circuit('open', 3, 5_000, 65_000, 1, NO_TRIALS, 5_000, 7),
    version,
    liveTrials: 0,
    totalFailures,
    totalSuccesses: 1,
    lastFailureTime: 5_000,
    lastFailureReason: 'boom',
    lastSuccessTime: 4_000,
    registeredAt,
    lastActivityAt: 5_000,
    options: {},
    metadata: {},
    window: null,
    trip: null,
  };
}

const entry = () => createEntry(createRecord('db', 'eu', NO_OPTIONS, {}, 0));

/** The reply row a script would publish for `remote(1000, 12)`: nils as false. */
function row(): unknown[] {
  return [
    '6000', '1', '0', 'closed', '1', '0', '0', '1', '0',
    'open', '3', '5000', '65000', '1', '5000', '7', '12', '3', '1', '5000', 'boom', '4000', '1000',
    '5000', '{}', '{"team":"a"}', '0', false, '40', '9', '2', '{"rule":"failure_rate","rate":0.6}',
    '0',
  ]; // prettier-ignore
}

describe('view: which state wins', () => {
  it('applies an answer sent after every hint the view applied, whatever its version', () => {
    const e = entry();
    expect(judgeAnswer(e, remote(1_000, 5), 0)).toBe('apply'); // nothing loaded yet
    writeRemote(e, remote(1_000, 5), 0, true);
    // Redis restarted from an older snapshot: the answer to a new command is the truth.
    expect(judgeAnswer(e, remote(1_000, 2), 0)).toBe('apply');
    expect(judgeAnswer(e, remote(500, 9), 0)).toBe('apply');
  });

  it('an answer sent before a hint applies only when newer than the hint', () => {
    const e = entry();
    writeRemote(e, remote(1_000, 5), 0, true);
    writeRemote(e, remote(1_000, 8), 0, false); // a hint
    e.hintEpoch = 3;
    expect(judgeAnswer(e, remote(1_000, 7), 2)).toBe('ignore');
    expect(judgeAnswer(e, remote(1_000, 9), 2)).toBe('apply');
    expect(judgeAnswer(e, remote(2_000, 1), 2)).toBe('verify'); // another incarnation: ask Redis
    expect(judgeAnswer(e, remote(1_000, 1), 3)).toBe('apply'); // sent after the hint
  });

  it('a hint applies when newer than the last answer, so a forged one cannot block later ones', () => {
    const e = entry();
    expect(judgeHint(e, remote(1_000, 1))).toBe('apply'); // no answer yet
    writeRemote(e, remote(1_000, 5), 0, true);
    expect(judgeHint(e, remote(1_000, 5))).toBe('ignore');
    expect(judgeHint(e, remote(1_000, 4))).toBe('ignore');
    writeRemote(e, remote(1_000, 1e15), 0, false); // forged: huge version
    expect(judgeHint(e, remote(1_000, 6))).toBe('apply'); // the next genuine one still applies
    expect(judgeHint(e, remote(9e12, 0))).toBe('apply'); // another incarnation (verified later)
  });
});

describe('view: copying state in and out', () => {
  it('translates server time into the registry clock and back', () => {
    const e = entry();
    writeRemote(e, remote(1_000, 3, 4), 1_000, true); // the server runs 1 s ahead
    expect(e.record.circuit).toMatchObject({
      state: 'open',
      openedAt: 4_000,
      openUntil: 64_000,
      changedAt: 4_000,
      generation: 7,
    });
    expect(e.record).toMatchObject({ totalFailures: 4, lastFailureTime: 4_000 });
    expect(e.record.lastSuccessTime).toBe(3_000);
    expect(e).toMatchObject({ born: 1_000, version: 3, trustedBorn: 1_000, trustedVersion: 3 });
    expect(seedOf(e, 1_000)).toMatchObject({
      state: 'open',
      openedAt: 5_000,
      openUntil: 65_000,
      changedAt: 5_000,
      totalFailures: 4,
      lastFailureReason: 'boom',
    });
  });

  it('keeps outcomes counted offline in the totals, out of the seed, and in the delta', () => {
    const e = entry();
    writeRemote(e, remote(1_000, 3, 4), 0, true);
    e.record.totalFailures += 2; // what reportLocally does while degraded
    countOffline(e, 'failure', 7_000, 'down');
    countOffline(e, 'failure', 8_000, 'still down');
    countOffline(e, 'ignore', 9_000, null);
    writeRemote(e, remote(1_000, 4, 4), 0, true); // Redis has not seen them yet
    expect(e.record.totalFailures).toBe(6);
    expect(seedOf(e, 0).totalFailures).toBe(4);
    expect(deltaOf(e.offline, 100)).toEqual({
      successes: 0,
      failures: 2,
      lastFailureTime: 8_100,
      lastFailureReason: 'still down',
      lastSuccessTime: null,
    });
    expect(deltaOf(null, 0)).toBeNull();
  });
});

describe('view: announcements', () => {
  const message = {
    source: 'p1',
    kind: 'failure',
    tag: connectionTag('db', 'eu'),
    reason: 'boom',
    reply: row(),
  };

  it('decodes an announcement naming the connection by its tag', () => {
    const parsed = parseAnnouncement(JSON.stringify(message));
    expect(parsed).toMatchObject({ source: 'p1', kind: 'failure', identifier: 'db', scope: 'eu' });
    if (parsed === null || parsed.kind === 'counters') throw new Error('not a state');
    expect(parsed.result.connection).toMatchObject({ version: 12 });
    expect(parsed.result.connection.circuit.generation).toBe(7);
    expect(parsed.result.connection.metadata).toEqual({ team: 'a' });
    expect(parsed.result.connection.window).toEqual({ calls: 40, failures: 9, slow: 2 });
    expect(parsed.result.connection.trip).toEqual({ rule: 'failure_rate', rate: 0.6 });
    expect(parseAnnouncement(JSON.stringify({ ...message, kind: 'refresh' }))?.kind).toBe('sync');
    const none = parseAnnouncement(JSON.stringify({ ...message, tag: connectionTag('db', null) }));
    expect(none).toMatchObject({ identifier: 'db', scope: null });
  });

  const counters = [
    '1000', '3', '10', '42', 'closed', '3', '2', '7', '90', '990', 'timeout', false, '1000', '1',
  ]; // prettier-ignore

  it('decodes a counters announcement', () => {
    const parsed = parseAnnouncement(
      JSON.stringify({ source: 'p2', kind: 'counters', tag: message.tag, counters }),
    );
    expect(parsed).toEqual({
      source: 'p2',
      kind: 'counters',
      identifier: 'db',
      scope: 'eu',
      counters: {
        found: 'counters',
        now: 1000,
        registeredAt: 10,
        version: 42,
        state: 'closed',
        generation: 3,
        failureCount: 2,
        totalFailures: 7,
        totalSuccesses: 90,
        lastFailureTime: 990,
        lastFailureReason: 'timeout',
        lastSuccessTime: null,
        lastActivityAt: 1000,
        announced: true,
      },
    });
    for (const bad of [
      { counters: 'x' },
      { counters: counters.slice(0, 13) },
      { counters: counters.map((v, i) => (i === 4 ? 'ajar' : v)) },
      { counters: counters.map((v, i) => (i === 6 ? '-1' : v)) },
      { counters: counters.map((v, i) => (i === 1 ? '2' : v)) },
      { tag: '{eu|db' },
    ]) {
      const payload = { source: 'p2', kind: 'counters', tag: message.tag, counters, ...bad };
      expect(parseAnnouncement(JSON.stringify(payload)), JSON.stringify(bad)).toBeNull();
    }
  });

  it('names a connection with lone surrogates exactly', () => {
    const tag = connectionTag('\uD800', 'x\uDFFFy');
    // The tag is plain text: it survives JSON and UTF-8 unchanged.
    const payload = Buffer.from(JSON.stringify({ ...message, tag }), 'utf8').toString('utf8');
    expect(parseAnnouncement(payload)).toMatchObject({ identifier: '\uD800', scope: 'x\uDFFFy' });
  });

  it('rejects anything that is not one of ours', () => {
    for (const bad of [
      'not json',
      '[]',
      'null',
      JSON.stringify({ ...message, tag: 3 }),
      JSON.stringify({ ...message, tag: '{eu|db' }),
      JSON.stringify({ ...message, tag: '{%45u|db}' }), // not the canonical spelling of "Eu"
      JSON.stringify({ ...message, tag: '{eu|}' }), // no identifier
      JSON.stringify({ ...message, kind: 'drop_tables' }),
      JSON.stringify({ ...message, source: 'x'.repeat(500) }),
      JSON.stringify({ ...message, reply: 'x' }),
      JSON.stringify({ ...message, reply: row().slice(0, 5) }),
      JSON.stringify({ ...message, reply: ['1', '0'] }), // "no such connection"
      JSON.stringify({ ...message, reply: row().map((v, i) => (i === 16 ? '1e400' : v)) }),
      JSON.stringify({ ...message, reply: row().map((v, i) => (i === 16 ? '-3' : v)) }),
      JSON.stringify({ ...message, reply: row().map((v, i) => (i === 15 ? '1.5' : v)) }),
      JSON.stringify({ ...message, reply: row().map((v, i) => (i === 9 ? 'exploded' : v)) }),
    ]) {
      expect(parseAnnouncement(bad), bad).toBeNull();
    }
  });
});
