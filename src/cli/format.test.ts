import { describe, expect, it } from 'vitest';
import { formatChange, formatDuration, formatTable, printable } from './format.js';
import type { StoredConnectionStatus } from './snapshot.js';

function status(over: Partial<StoredConnectionStatus>): StoredConnectionStatus {
  return {
    identifier: 'db',
    scope: null,
    state: 'closed',
    failureCount: 0,
    totalFailures: 0,
    totalSuccesses: 0,
    successRate: null,
    lastFailureTime: null,
    lastFailureReason: null,
    lastSuccessTime: null,
    openedAt: null,
    openUntil: null,
    lastStateChangeAt: 0,
    timeSinceLastStateChange: 0,
    registeredAt: 0,
    lastActivityAt: 0,
    metadata: {},
    options: {},
    failureRate: null,
    slowCallRate: null,
    windowCalls: 0,
    trip: null,
    liveTrials: 0,
    generation: 0,
    version: 1,
    ...over,
  };
}

describe('CLI output', () => {
  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_400)).toBe('12s');
    expect(formatDuration(184_000)).toBe('3m 04s');
    expect(formatDuration(7_500_000)).toBe('2h 05m');
    expect(formatDuration(273_600_000)).toBe('3d 04h');
    expect(formatDuration(-1)).toBe('-');
  });

  it('escapes control characters and lone surrogates', () => {
    expect(printable('a\nb\u0000c')).toBe('a\\u000ab\\u0000c');
    expect(printable('x\uD800y\uDC00')).toBe('x\\ud800y\\udc00');
    expect(printable('😀 é')).toBe('😀 é');
  });

  it('prints an aligned table, one row per connection', () => {
    const table = formatTable([
      status({
        identifier: 'payments-api',
        scope: 'billing',
        state: 'open',
        failureCount: 5,
        totalFailures: 12,
        totalSuccesses: 340,
        lastFailureReason: 'Error: connect ECONNREFUSED\nsecond line',
        timeSinceLastStateChange: 65_000,
      }),
      status({ identifier: 'search' }),
    ]);
    expect(table.split('\n')).toEqual([
      'IDENTIFIER    SCOPE    STATE   FAILURES  SUCCESSES  IN STATE  LAST FAILURE',
      'payments-api  billing  open    5/12      340        1m 05s    Error: connect ECONNREFUSED\\u000asecond line',
      'search        -        closed  0/0       0          0ms       -',
      '',
    ]);
    const long = formatTable([status({ lastFailureReason: 'x'.repeat(200) })]);
    expect(long).toContain(`${'x'.repeat(59)}…`);
  });

  it('prints one line per change', () => {
    const line = formatChange({
      at: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      kind: 'open',
      identifier: 'payments-api',
      scope: 'billing',
      from: 'closed',
      state: 'open',
      reason: 'maintenance',
      failureCount: 0,
      totalFailures: 2,
      totalSuccesses: 3,
    });
    expect(line).toBe(
      '2026-01-02T03:04:05.006Z  payments-api (billing)  open  closed -> open  failures 0/2 successes 3  reason "maintenance"',
    );
    expect(
      formatChange({
        at: 0,
        kind: 'counters',
        identifier: 'db',
        scope: null,
        from: null,
        state: 'closed',
        reason: null,
        failureCount: null,
        totalFailures: null,
        totalSuccesses: null,
      }),
    ).toBe('1970-01-01T00:00:00.000Z  db  counters  closed');
  });
});
