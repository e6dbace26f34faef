import { describe, expect, it } from 'vitest';
import { Brama, isBramaError, MemoryStore } from '../index.js';
import { ManualClock, setState } from '../testing/index.js';
import { parseExposition, samplesOf, valueOf, type Family } from './exposition-parser.js';
import { prometheus, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(1_000);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 2, expiry: 1_000, ...options });
  return { clock, brama };
}

const scrape = (exporter: { metrics(): string }): Map<string, Family> =>
  parseExposition(exporter.metrics());

const calls = (m: Map<string, Family>, identifier: string, outcome: string, scope = '') =>
  valueOf(m, 'brama_calls_total', { identifier, scope, outcome });

const stateOf = (m: Map<string, Family>, identifier: string, scope = '') =>
  samplesOf(m, 'brama_connection_state', { identifier, scope })
    .filter((s) => s.value === 1)
    .map((s) => s.labels.state);

const transitions = (m: Map<string, Family>, identifier: string, from: string, to: string) =>
  valueOf(m, 'brama_transitions_total', { identifier, scope: '', from, to });

describe('prometheus(): the exposition', () => {
  it('has every family once, typed and described, and the content type of format 0.0.4', () => {
    const { brama } = setup();
    const exporter = prometheus(brama);
    expect(exporter.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(PROMETHEUS_CONTENT_TYPE).toBe(exporter.contentType);
    const m = scrape(exporter);
    expect([...m.values()].map((f) => [f.name, f.type])).toEqual([
      ['brama_connection_state', 'gauge'],
      ['brama_transitions_total', 'counter'],
      ['brama_calls_total', 'counter'],
      ['brama_call_duration_seconds', 'histogram'],
      ['brama_connections', 'gauge'],
      ['brama_store_degraded', 'gauge'],
      ['brama_series_dropped_total', 'counter'],
    ]);
    for (const family of m.values()) expect(family.help).toMatch(/\S/);
    expect(valueOf(m, 'brama_connections')).toBe(0);
    expect(valueOf(m, 'brama_store_degraded')).toBe(0);
    expect(valueOf(m, 'brama_series_dropped_total')).toBe(0);
  });

  it('shows each connection with a one-hot state, all five outcomes and the main transitions', () => {
    const { brama } = setup();
    const exporter = prometheus(brama);
    brama.register('db', { scope: 'eu' });
    const m = scrape(exporter);
    expect(stateOf(m, 'db', 'eu')).toEqual(['unknown']);
    expect(samplesOf(m, 'brama_connection_state', { identifier: 'db' })).toHaveLength(4);
    for (const outcome of ['success', 'failure', 'ignored', 'rejected', 'timeout'])
      expect(calls(m, 'db', outcome, 'eu')).toBe(0);
    const shown = samplesOf(m, 'brama_transitions_total', { identifier: 'db' });
    expect(shown.map((s) => `${s.labels.from}>${s.labels.to}=${s.value}`)).toEqual([
      'closed>open=0',
      'open>half_open=0',
      'half_open>closed=0',
      'half_open>open=0',
    ]);
    expect(samplesOf(m, 'brama_call_duration_seconds_count')).toEqual([]);
    expect(valueOf(m, 'brama_connections')).toBe(1);
  });

  it('counts reports, isAvailable refusals and every transition, a short open included', () => {
    const { brama, clock } = setup();
    const exporter = prometheus(brama);
    brama.register('api');
    brama.success('api');
    brama.failure('api');
    brama.failure('api'); // opens
    expect(brama.isAvailable('api')).toBe(false);
    expect(brama.isAvailable('nobody')).toBe(false); // unregistered: no series
    clock.advance(1_000);
    expect(brama.isAvailable('api')).toBe(true); // half-open trial
    brama.success('api'); // closes: the open lasted between two scrapes
    const m = scrape(exporter);
    expect(stateOf(m, 'api')).toEqual(['closed']);
    expect(calls(m, 'api', 'success')).toBe(2);
    expect(calls(m, 'api', 'failure')).toBe(2);
    expect(calls(m, 'api', 'rejected')).toBe(1);
    expect(transitions(m, 'api', 'unknown', 'closed')).toBe(1);
    expect(transitions(m, 'api', 'closed', 'open')).toBe(1);
    expect(transitions(m, 'api', 'open', 'half_open')).toBe(1);
    expect(transitions(m, 'api', 'half_open', 'closed')).toBe(1);
    expect(samplesOf(m, 'brama_connection_state', { identifier: 'nobody' })).toEqual([]);
    // Manual actions and forced states count as transitions too.
    brama.openCircuit('api');
    setState(brama, 'api', 'half_open');
    const n = scrape(exporter);
    expect(transitions(n, 'api', 'closed', 'open')).toBe(2);
    expect(transitions(n, 'api', 'open', 'half_open')).toBe(2);
    expect(stateOf(n, 'api')).toEqual(['half_open']);
  });

  it('reads an elapsed open period as half-open, as status does', () => {
    const { brama, clock } = setup();
    const exporter = prometheus(brama);
    brama.register('api');
    brama.openCircuit('api');
    expect(stateOf(scrape(exporter), 'api')).toEqual(['open']);
    clock.advance(1_000);
    const m = scrape(exporter);
    expect(stateOf(m, 'api')).toEqual(['half_open']);
    expect(transitions(m, 'api', 'open', 'half_open')).toBe(1);
  });

  it('counts only while attached; close() is idempotent and leaves connection series out', () => {
    const { brama } = setup();
    brama.register('api');
    brama.success('api'); // before: not counted
    const exporter = prometheus(brama);
    brama.success('api');
    expect(calls(scrape(exporter), 'api', 'success')).toBe(1);
    exporter.close();
    exporter.close();
    brama.success('api');
    const m = scrape(exporter);
    expect(samplesOf(m, 'brama_calls_total')).toEqual([]);
    expect(valueOf(m, 'brama_connections')).toBe(1);
    // A second exporter continues the counts kept on the connection.
    expect(calls(scrape(prometheus(brama)), 'api', 'success')).toBe(1);
  });

  it('reads the store’s health', () => {
    class DegradedStore extends MemoryStore {
      readonly degraded = true;
    }
    const brama = new Brama({ store: new DegradedStore(), cleanupInterval: 0 });
    expect(valueOf(scrape(prometheus(brama)), 'brama_store_degraded')).toBe(1);
  });

  it('still answers after brama.close(): no connection series, no connections', async () => {
    const { brama } = setup();
    const exporter = prometheus(brama);
    brama.register('api');
    brama.success('api');
    await brama.close();
    const m = scrape(exporter);
    expect(samplesOf(m, 'brama_calls_total')).toEqual([]);
    expect(valueOf(m, 'brama_connections')).toBe(0);
    exporter.close();
  });
});

describe('prometheus(): series follow their connections', () => {
  it('removes the series of unregistered and cleaned-up connections', () => {
    const { brama, clock } = setup({ inactiveThreshold: 10_000 });
    const exporter = prometheus(brama);
    brama.register('gone');
    brama.register('idle');
    brama.register('busy');
    brama.success('gone');
    expect(calls(scrape(exporter), 'gone', 'success')).toBe(1);
    brama.unregister('gone');
    clock.advance(10_000);
    brama.success('busy');
    expect(brama.cleanup()).toBe(1); // idle
    const m = scrape(exporter);
    expect(samplesOf(m, 'brama_calls_total', { identifier: 'gone' })).toEqual([]);
    expect(samplesOf(m, 'brama_connection_state', { identifier: 'idle' })).toEqual([]);
    expect(stateOf(m, 'busy')).toEqual(['closed']);
    expect(valueOf(m, 'brama_connections')).toBe(1);
    // Registered again: a new connection, counted from zero.
    brama.register('gone');
    expect(calls(scrape(exporter), 'gone', 'success')).toBe(0);
  });

  it('labels only maxSeries connections, counts each one left out once, and reuses freed places', () => {
    const { brama } = setup();
    const exporter = prometheus(brama, { maxSeries: 2 });
    for (const id of ['a', 'b', 'c', 'd']) brama.register(id);
    const m = scrape(exporter);
    const labelled = (x: Map<string, Family>) =>
      samplesOf(x, 'brama_calls_total', { outcome: 'success' }).map((s) => s.labels.identifier);
    expect(labelled(m)).toEqual(['a', 'b']);
    expect(valueOf(m, 'brama_series_dropped_total')).toBe(2);
    expect(valueOf(m, 'brama_connections')).toBe(4);
    expect(valueOf(scrape(exporter), 'brama_series_dropped_total')).toBe(2); // once each
    brama.unregister('a');
    const n = scrape(exporter);
    expect(labelled(n)).toEqual(['b', 'c']); // a's place went to c
    expect(valueOf(n, 'brama_series_dropped_total')).toBe(2);
    brama.register('e');
    expect(valueOf(scrape(exporter), 'brama_series_dropped_total')).toBe(3);
    const none = prometheus(brama, { maxSeries: 0 });
    const z = scrape(none);
    expect(samplesOf(z, 'brama_connection_state')).toEqual([]);
    expect(valueOf(z, 'brama_series_dropped_total')).toBe(4);
  });
});

describe('prometheus(): label values', () => {
  it('escapes \\, " and line feeds, keeps unicode, and replaces lone surrogates by U+FFFD', () => {
    const { brama } = setup();
    const exporter = prometheus(brama);
    const weird = 'a"b\\c\nd';
    brama.register(weird, { scope: 'sc"ope\\' });
    brama.register('zażółć 🚀 日本');
    brama.register('lone\uD800high', { scope: '\uDC00low' });
    brama.success(weird, { scope: 'sc"ope\\' });
    const text = exporter.metrics();
    expect(text).toContain('identifier="a\\"b\\\\c\\nd",scope="sc\\"ope\\\\"');
    const m = parseExposition(text); // strict: valid escapes, valid UTF-8
    expect(calls(m, weird, 'success', 'sc"ope\\')).toBe(1);
    expect(stateOf(m, 'zażółć 🚀 日本')).toEqual(['unknown']);
    expect(stateOf(m, 'lone\uFFFDhigh', '\uFFFDlow')).toEqual(['unknown']);
  });
});

describe('prometheus(): options', () => {
  it('renames every metric with prefix', () => {
    const { brama } = setup();
    const m = scrape(prometheus(brama, { prefix: 'app:brama_2' }));
    expect([...m.keys()]).toContain('app:brama_2_calls_total');
    expect([...m.keys()].every((name) => name.startsWith('app:brama_2_'))).toBe(true);
  });

  it.each([
    [{ prefix: '' }, 'prefix', '""'],
    [{ prefix: '9lives' }, 'prefix', '"9lives"'],
    [{ prefix: 'a-b' }, 'prefix', '"a-b"'],
    [{ prefix: 7 }, 'prefix', '7'],
    [{ maxSeries: -1 }, 'maxSeries', '-1'],
    [{ maxSeries: 1.5 }, 'maxSeries', '1.5'],
    [{ maxSeries: Infinity }, 'maxSeries', 'Infinity'],
    [{ maxSeries: '10' }, 'maxSeries', '"10"'],
  ])(
    'rejects %o with BRAMA_INVALID_OPTION naming option, range and value',
    (opts, option, shown) => {
      const { brama } = setup();
      let caught: unknown;
      try {
        prometheus(brama, opts as never);
      } catch (error) {
        caught = error;
      }
      expect(isBramaError(caught, 'BRAMA_INVALID_OPTION')).toBe(true);
      const message = (caught as Error).message;
      expect(message).toContain(`"${option}"`);
      expect(message).toMatch(/expected (a metric name|an integer >= 0)/);
      expect(message).toContain(`received ${shown}`);
    },
  );

  it('rejects unknown option keys and a non-registry', () => {
    const { brama } = setup();
    expect(() => prometheus(brama, { maxseries: 1 } as never)).toThrow(/did you mean "maxSeries"/);
    expect(() => prometheus({} as never)).toThrow(
      expect.objectContaining({ code: 'BRAMA_INVALID_ARGUMENT' }),
    );
  });
});
