import { describe, expect, it } from 'vitest';
import { createRecord } from '../../core/record.js';
import { NO_OPTIONS } from '../../core/settings.js';
import { circuit, NO_TRIALS } from '../../core/state.js';
import type { RemoteConnection } from './reply.js';
import { createEntry, isNewer, parseAnnouncement, seedOf, writeRemote } from './view.js';

function remote(registeredAt: number, generation: number, totalFailures = 0): RemoteConnection {
  return {
    circuit: circuit('open', 3, 5_000, 65_000, 1, NO_TRIALS, 5_000, generation),
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
  };
}

const entry = () => createEntry(createRecord('db', null, NO_OPTIONS, {}, 0));

/** The reply row a script would publish for `remote(1000, 7)`: nils as false. */
function row(): unknown[] {
  return [
    '6000', '1', '0', 'closed', '1', '0', '0',
    'open', '3', '5000', '65000', '1', '5000', '7', '3', '1', '5000', 'boom', '4000', '1000',
    '5000', '{}', '{"team":"a"}', '0',
  ]; // prettier-ignore
}

describe('view', () => {
  it('takes anything before the first load, then only newer versions', () => {
    const e = entry();
    expect(isNewer(e, remote(1_000, 3), false)).toBe(true);
    writeRemote(e, remote(1_000, 3), 0);
    expect(isNewer(e, remote(1_000, 3), false)).toBe(false); // an announcement needs a newer generation
    expect(isNewer(e, remote(1_000, 3), true)).toBe(true); // a reply (in order) may bring new counters
    expect(isNewer(e, remote(1_000, 2), true)).toBe(false);
    expect(isNewer(e, remote(1_000, 4), false)).toBe(true);
    expect(isNewer(e, remote(2_000, 0), false)).toBe(true); // recreated later
    expect(isNewer(e, remote(500, 9), true)).toBe(false); // an older incarnation
  });

  it('translates server time into the registry clock and back', () => {
    const e = entry();
    writeRemote(e, remote(1_000, 3, 4), 1_000); // the server runs 1 s ahead
    expect(e.record.circuit).toMatchObject({
      state: 'open',
      openedAt: 4_000,
      openUntil: 64_000,
      changedAt: 4_000,
      generation: 3,
    });
    expect(e.record).toMatchObject({
      totalFailures: 4,
      lastFailureTime: 4_000,
      lastSuccessTime: 3_000,
    });
    expect(seedOf(e, 1_000)).toMatchObject({
      state: 'open',
      openedAt: 5_000,
      openUntil: 65_000,
      changedAt: 5_000,
      totalFailures: 4,
      lastFailureReason: 'boom',
    });
  });

  it('decodes announcements and rejects anything else', () => {
    const message = {
      source: 'p1',
      kind: 'failure',
      identifier: 'db',
      scope: 'eu',
      reason: 'boom',
      reply: row(),
    };
    const parsed = parseAnnouncement(JSON.stringify(message));
    expect(parsed).toMatchObject({ source: 'p1', kind: 'failure', identifier: 'db', scope: 'eu' });
    expect(parsed?.result.connection.circuit.generation).toBe(7);
    expect(parsed?.result.connection.metadata).toEqual({ team: 'a' });
    expect(parseAnnouncement(JSON.stringify({ ...message, kind: 'drop_tables' }))?.kind).toBe(
      'sync',
    );
    expect(parseAnnouncement(JSON.stringify({ ...message, scope: undefined }))?.scope).toBeNull();
    for (const bad of [
      'not json',
      '[]',
      JSON.stringify({ ...message, identifier: 3 }),
      JSON.stringify({ ...message, reply: 'x' }),
      JSON.stringify({ ...message, reply: row().slice(0, 5) }),
      JSON.stringify({ ...message, reply: ['1', '0'] }), // "no such connection"
    ]) {
      expect(parseAnnouncement(bad)).toBeNull();
    }
  });
});
