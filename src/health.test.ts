/** `brama.health()`: the roll-up a readiness probe reads. */
import { describe, expect, it } from 'vitest';
import { Brama, isBramaError, type ConnectionStore } from './index.js';
import { MemoryStore } from './stores/memory-store.js';
import { ManualClock, setState } from './testing/index.js';

function setup() {
  const clock = new ManualClock(1_000_000);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 1 });
  brama.register('db');
  brama.register('cache', { scope: 'eu' });
  brama.register('search');
  return { clock, brama };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBramaError(error) ? error.code : `raw ${String(error)}`;
  }
  return undefined;
}

describe('health', () => {
  it('is ok while every circuit is closed or unknown, listing each connection', () => {
    const { brama } = setup();
    brama.success('db');
    const report = brama.health();
    expect(report.status).toBe('ok');
    expect(report.storeDegraded).toBe(false);
    const byName = [...report.connections].sort((a, b) => a.identifier.localeCompare(b.identifier));
    expect(byName).toEqual([
      { identifier: 'cache', scope: 'eu', state: 'unknown', critical: false },
      { identifier: 'db', scope: null, state: 'closed', critical: false },
      { identifier: 'search', scope: null, state: 'unknown', critical: false },
    ]);
  });

  it('is degraded when a non-critical circuit is open, down when a critical one is', () => {
    const { brama } = setup();
    brama.failure('search');
    expect(brama.health().status).toBe('degraded');
    expect(brama.health({ critical: ['db'] }).status).toBe('degraded');
    const down = brama.health({ critical: ['search'] });
    expect(down.status).toBe('down');
    expect(down.connections.find((c) => c.identifier === 'search')).toEqual({
      identifier: 'search',
      scope: null,
      state: 'open',
      critical: true,
    });
  });

  it('counts half-open as failing, and sees the lazy open -> half-open change', () => {
    const { clock, brama } = setup();
    brama.failure('db');
    clock.advance(60_000);
    const report = brama.health({ critical: ['db'] });
    expect(report.status).toBe('down');
    expect(report.connections[0]?.state).toBe('half_open');
    brama.success('db');
    expect(brama.health({ critical: ['db'] }).status).toBe('ok');
  });

  it('takes a predicate on the status for critical, and a throwing one marks nothing critical', () => {
    const { brama } = setup();
    setState(brama, 'cache', 'open', { scope: 'eu' });
    expect(brama.health({ critical: (s) => s.scope === 'eu' }).status).toBe('down');
    expect(brama.health({ critical: (s) => s.identifier === 'db' }).status).toBe('degraded');
    const boom = () => {
      throw new Error('bad predicate');
    };
    expect(brama.health({ critical: boom }).status).toBe('degraded');
  });

  it('filters by scope', () => {
    const { brama } = setup();
    brama.failure('db');
    const eu = brama.health({ scope: 'eu', critical: ['db'] });
    expect(eu.status).toBe('ok');
    expect(eu.connections.map((c) => c.identifier)).toEqual(['cache']);
    const unscoped = brama.health({ scope: null, critical: ['db'] });
    expect(unscoped.status).toBe('down');
    expect(unscoped.connections.map((c) => c.identifier).sort()).toEqual(['db', 'search']);
  });

  it('is degraded while the store works on local state', () => {
    class Degraded extends MemoryStore implements ConnectionStore {
      readonly degraded = true;
    }
    const brama = new Brama({ store: new Degraded(), cleanupInterval: 0 });
    brama.register('db');
    const report = brama.health();
    expect(report).toMatchObject({ status: 'degraded', storeDegraded: true });
  });

  it('rejects bad options with typed errors naming them', () => {
    const { brama } = setup();
    expect(codeOf(() => brama.health({ critical: 'db' as never }))).toBe('BRAMA_INVALID_OPTION');
    expect(codeOf(() => brama.health({ critical: [''] }))).toBe('BRAMA_INVALID_OPTION');
    expect(codeOf(() => brama.health({ critical: [1 as never] }))).toBe('BRAMA_INVALID_OPTION');
    expect(codeOf(() => brama.health({ scope: 3 as never }))).toBe('BRAMA_INVALID_ARGUMENT');
    expect(codeOf(() => brama.health({ critcal: [] } as never))).toBe('BRAMA_INVALID_OPTION');
    expect(codeOf(() => brama.health(5 as never))).toBe('BRAMA_INVALID_ARGUMENT');
    try {
      brama.health({ critical: 7 as never });
    } catch (error) {
      expect(String((error as Error).message)).toMatch(/"critical".*7/);
    }
  });

  it('refuses after close', async () => {
    const { brama } = setup();
    await brama.close();
    expect(codeOf(() => brama.health())).toBe('BRAMA_CLOSED');
  });
});
