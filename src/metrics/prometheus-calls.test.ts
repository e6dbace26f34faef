import { describe, expect, it } from 'vitest';
import { Brama } from '../index.js';
import { ManualClock, setState } from '../testing/index.js';
import { parseExposition, samplesOf, valueOf, type Family } from './exposition-parser.js';
import { prometheus } from './prometheus.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(1_000);
  const brama = new Brama({ clock, cleanupInterval: 0, ...options });
  return { clock, brama };
}

const scrape = (exporter: { metrics(): string }): Map<string, Family> =>
  parseExposition(exporter.metrics());

const calls = (m: Map<string, Family>, identifier: string, outcome: string, scope = '') =>
  valueOf(m, 'brama_calls_total', { identifier, scope, outcome });

describe('prometheus(): wrapped calls', () => {
  it('counts each call once and renders cumulative duration buckets (hand-computed)', async () => {
    const { brama, clock } = setup({ maxAttempts: 100 });
    const exporter = prometheus(brama);
    const took =
      (ms: number, value: unknown = ms) =>
      () => {
        clock.advance(ms);
        return value;
      };
    for (const ms of [3, 5, 7, 40, 2_000]) await brama.run('api', took(ms));
    await brama.run('api', took(20, null), { classify: () => 'ignore' });
    const failing = () => {
      clock.advance(60);
      return Promise.reject(new Error('down'));
    };
    await brama.run('api', failing).catch(() => undefined);
    await brama.run('api', failing, { isFailure: () => false }).catch(() => undefined);
    const timedOut = brama.run('api', () => new Promise<never>(() => undefined), { timeout: 300 });
    clock.advance(300);
    await timedOut.catch(() => undefined);
    const controller = new AbortController();
    const aborted = brama.run('api', () => new Promise<never>(() => undefined), {
      signal: controller.signal,
    });
    controller.abort();
    await aborted.catch(() => undefined);
    setState(brama, 'api', 'open');
    await brama.run('api', took(1), { fallback: () => 'cached' });
    await brama.run('api', took(1)).catch(() => undefined);

    const m = scrape(exporter);
    expect(calls(m, 'api', 'success')).toBe(5);
    expect(calls(m, 'api', 'failure')).toBe(1);
    expect(calls(m, 'api', 'ignored')).toBe(2);
    expect(calls(m, 'api', 'timeout')).toBe(1);
    expect(calls(m, 'api', 'rejected')).toBe(2);
    const buckets = (outcome: string) =>
      samplesOf(m, 'brama_call_duration_seconds_bucket', { identifier: 'api', outcome }).map(
        (s) => `${s.labels.le}:${s.value}`,
      );
    // success: 3, 5, 7, 40, 2000 ms
    expect(buckets('success')).toEqual([
      '0.005:2',
      '0.01:3',
      '0.025:3',
      '0.05:4',
      '0.1:4',
      '0.25:4',
      '0.5:4',
      '1:4',
      '2.5:5',
      '5:5',
      '10:5',
      '+Inf:5',
    ]);
    const sum = (outcome: string) =>
      valueOf(m, 'brama_call_duration_seconds_sum', { identifier: 'api', outcome });
    const count = (outcome: string) =>
      valueOf(m, 'brama_call_duration_seconds_count', { identifier: 'api', outcome });
    expect(sum('success')).toBe(2.055);
    expect(count('success')).toBe(5);
    expect(sum('ignored')).toBe(0.08); // 20 + 60 ms
    expect(buckets('ignored')[2]).toBe('0.025:1');
    expect(sum('failure')).toBe(0.06);
    expect(sum('timeout')).toBe(0.3);
    expect(buckets('timeout').slice(5, 7)).toEqual(['0.25:0', '0.5:1']);
    expect(samplesOf(m, 'brama_call_duration_seconds_count', { outcome: 'rejected' })).toEqual([]);
  });
});
