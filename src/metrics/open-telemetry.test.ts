import { metrics, type Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { Brama, isBramaError } from '../index.js';
import { ManualClock } from '../testing/index.js';
import { openTelemetry, type OtelMeter } from './open-telemetry.js';

/** A reader collected by hand. */
class ManualReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function setup(temporality = AggregationTemporality.CUMULATIVE) {
  const clock = new ManualClock(1_000);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 2, expiry: 1_000 });
  const reader = new ManualReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const meter: Meter = provider.getMeter('brama-test');
  const collect = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    return new Map(metrics.map((m) => [m.descriptor.name, m]));
  };
  return { clock, brama, meter, collect };
}

function point<T>(
  metric: MetricData | undefined,
  attributes: Record<string, string>,
): DataPoint<T> | undefined {
  const points = (metric?.dataPoints ?? []) as DataPoint<T>[];
  const found = points.filter((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  );
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0];
}

const valueAt = (metric: MetricData | undefined, attributes: Record<string, string> = {}) =>
  point<number>(metric, attributes)?.value;

describe('openTelemetry()', () => {
  it('creates the instruments with dotted names and feeds the same values as prometheus()', async () => {
    const { brama, meter, collect, clock } = setup();
    // A Meter of @opentelemetry/api is an OtelMeter (checked by tsc).
    const asOtel: OtelMeter = meter;
    const binding = openTelemetry(brama, asOtel);
    brama.register('api', { scope: 'eu' });
    brama.success('api', { scope: 'eu' });
    brama.failure('api', { scope: 'eu' });
    brama.failure('api', { scope: 'eu' });
    expect(brama.isAvailable('api', { scope: 'eu' })).toBe(false);
    for (const ms of [3, 40]) {
      await brama.run('db', () => {
        clock.advance(ms);
        return ms;
      });
    }
    const m = await collect();
    expect([...m.keys()].sort()).toEqual([
      'brama.call.duration',
      'brama.calls',
      'brama.connection.state',
      'brama.connections',
      'brama.series.dropped',
      'brama.store.degraded',
      'brama.transitions',
    ]);
    const api = { identifier: 'api', scope: 'eu' };
    expect(valueAt(m.get('brama.connection.state'), { ...api, state: 'open' })).toBe(1);
    expect(valueAt(m.get('brama.connection.state'), { ...api, state: 'closed' })).toBe(0);
    expect(valueAt(m.get('brama.calls'), { ...api, outcome: 'success' })).toBe(1);
    expect(valueAt(m.get('brama.calls'), { ...api, outcome: 'failure' })).toBe(2);
    expect(valueAt(m.get('brama.calls'), { ...api, outcome: 'rejected' })).toBe(1);
    expect(valueAt(m.get('brama.calls'), { ...api, outcome: 'timeout' })).toBe(0);
    const moved = { ...api, from: 'closed', to: 'open' };
    expect(valueAt(m.get('brama.transitions'), moved)).toBe(1);
    expect(valueAt(m.get('brama.transitions'), { ...api, from: 'unknown', to: 'closed' })).toBe(1);
    expect(valueAt(m.get('brama.connections'))).toBe(2);
    expect(valueAt(m.get('brama.store.degraded'))).toBe(0);
    expect(valueAt(m.get('brama.series.dropped'))).toBe(0);

    const duration = m.get('brama.call.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const h = point<Histogram>(duration, { identifier: 'db', scope: '', outcome: 'success' });
    expect(h?.value.count).toBe(2);
    expect(h?.value.sum).toBeCloseTo(0.043, 10);
    expect(h?.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
    expect(h?.value.buckets.counts).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    binding.close();
  });

  it('caps attributed series at maxSeries and counts each connection left out once', async () => {
    // Delta temporality: the JS SDK keeps exporting, under cumulative temporality, the last value
    // of every attribute set it has seen, even when nobody observes it any more.
    const { brama, meter, collect } = setup(AggregationTemporality.DELTA);
    const binding = openTelemetry(brama, meter, { maxSeries: 1, prefix: 'app.cb' });
    brama.register('a');
    brama.register('b');
    const ids = (metric: MetricData | undefined) =>
      [...new Set(metric?.dataPoints.map((p) => p.attributes.identifier))].sort();
    let m = await collect(); // the first connection seen gets the place
    expect(ids(m.get('app.cb.calls'))).toEqual(['a']);
    expect(valueAt(m.get('app.cb.series.dropped'))).toBe(1); // delta: b, now
    await brama.run('b', () => 1); // its duration has no place either
    m = await collect();
    expect(ids(m.get('app.cb.calls'))).toEqual(['a']);
    expect(m.get('app.cb.call.duration')?.dataPoints ?? []).toEqual([]);
    expect(valueAt(m.get('app.cb.series.dropped'))).toBe(0); // counted once
    brama.unregister('a');
    m = await collect();
    expect(ids(m.get('app.cb.calls'))).toEqual(['b']); // a's place went to b
    expect(valueAt(m.get('app.cb.series.dropped'))).toBe(0);
    binding.close();
  });

  it('close() removes the callbacks and stops counting; a throwing histogram never breaks a call', async () => {
    const { brama, meter, collect } = setup();
    const broken: OtelMeter = {
      ...meterMethods(meter),
      createHistogram: () => ({
        record: () => {
          throw new Error('exporter bug');
        },
      }),
    };
    const binding = openTelemetry(brama, broken);
    await expect(brama.run('api', () => 7)).resolves.toBe(7);
    binding.close();
    binding.close();
    brama.success('api');
    const m = await collect();
    expect(m.get('brama.calls')?.dataPoints ?? []).toEqual([]);
  });

  it('works with the API’s no-op meter (no SDK registered)', async () => {
    const { brama } = setup();
    const binding = openTelemetry(brama, metrics.getMeter('no-sdk'));
    await expect(brama.run('api', () => 1)).resolves.toBe(1);
    binding.close();
  });

  it('validates its arguments', () => {
    const { brama, meter } = setup();
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        return isBramaError(error) ? error.code : 'not a BramaError';
      }
      return undefined;
    };
    expect(code(() => openTelemetry(brama, meter, { prefix: '1x' }))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => openTelemetry(brama, meter, { maxSeries: -2 }))).toBe('BRAMA_INVALID_OPTION');
    expect(code(() => openTelemetry(brama, {} as never))).toBe('BRAMA_INVALID_ARGUMENT');
    expect(code(() => openTelemetry({} as never, meter))).toBe('BRAMA_INVALID_ARGUMENT');
  });
});

/** The methods of a real meter, bound, as an `OtelMeter`. */
function meterMethods(meter: Meter): OtelMeter {
  return {
    createObservableGauge: (name, options) => meter.createObservableGauge(name, options),
    createObservableCounter: (name, options) => meter.createObservableCounter(name, options),
    createHistogram: (name, options) => meter.createHistogram(name, options),
    addBatchObservableCallback: (callback, observables) =>
      meter.addBatchObservableCallback(callback, observables as never),
    removeBatchObservableCallback: (callback, observables) =>
      meter.removeBatchObservableCallback(callback, observables as never),
  };
}
