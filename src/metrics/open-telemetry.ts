/**
 * `openTelemetry(brama, meter)`: the metrics of `prometheus()` as OpenTelemetry instruments on a
 * `Meter` of `@opentelemetry/api`. Counters and gauges are observable (read from the
 * connections' meters at each collection); durations go to a histogram as calls end.
 *
 * The meter is the caller's: this module imports nothing from `@opentelemetry/api` (its types
 * are described structurally below), so `brama/metrics` loads without it.
 */
import { METERED_OUTCOMES, METERED_STATES, type MeteredOutcome } from '../core/call-meter.js';
import { invalidArgument } from '../core/errors.js';
import type { ConnectionRecord } from '../core/record.js';
import type { Brama } from '../brama.js';
import {
  attach,
  checkBrama,
  DESCRIPTIONS,
  parseMetricsOptions,
  type MetricsOptions,
} from './options.js';
import { MAIN_TRANSITIONS, SeriesSlots, wellFormed } from './series.js';

/** Attributes of one measurement (brama's are all strings). */
export type OtelAttributes = Readonly<Record<string, string>>;

/** What brama uses of an `@opentelemetry/api` instrument handle: nothing but its identity. */
export type OtelObservable = object;

/** The `Histogram` of `@opentelemetry/api`, as far as brama uses it. */
export interface OtelHistogram {
  /** Records one measurement. */
  record(value: number, attributes?: OtelAttributes): void;
}

/** The `BatchObservableResult` of `@opentelemetry/api`, as far as brama uses it. */
export interface OtelBatchResult {
  /** Observes one value of one instrument. */
  observe(metric: OtelObservable, value: number, attributes?: OtelAttributes): void;
}

/** Options brama passes when creating an instrument. */
export interface OtelInstrumentOptions {
  readonly description?: string;
  readonly unit?: string;
  readonly advice?: { explicitBucketBoundaries?: number[] };
}

/**
 * The `Meter` of `@opentelemetry/api` (>= 1.3), as far as brama uses it: pass
 * `metrics.getMeter('my-service')` or a meter of `@opentelemetry/sdk-metrics`.
 */
export interface OtelMeter {
  /** Creates an asynchronous gauge. */
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservable;
  /** Creates an asynchronous counter. */
  createObservableCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
  /** Creates a histogram. */
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
  /** Registers a callback that observes several instruments at each collection. */
  addBatchObservableCallback(
    callback: (result: OtelBatchResult) => void,
    observables: OtelObservable[],
  ): void;
  /** Removes a callback registered with `addBatchObservableCallback`. */
  removeBatchObservableCallback(
    callback: (result: OtelBatchResult) => void,
    observables: OtelObservable[],
  ): void;
}

/** Options of {@link openTelemetry}. */
export type OpenTelemetryOptions = MetricsOptions;

/** An OpenTelemetry binding attached to one registry. */
export interface OpenTelemetryExporter {
  /** Removes the observable callbacks and detaches from the registry. Idempotent. */
  close(): void;
}

/** Prometheus' default buckets, in seconds: the histogram's suggested boundaries. */
const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Creates brama's instruments on `meter` and feeds them from `brama`: `brama.connection.state`,
 * `brama.transitions`, `brama.calls`, `brama.call.duration` (s), `brama.connections`,
 * `brama.store.degraded` and `brama.series.dropped` (with `prefix` instead of `brama`).
 * Throws `BRAMA_INVALID_OPTION` for a bad `prefix` or `maxSeries`.
 * @example
 * import { metrics } from '@opentelemetry/api';
 * const binding = openTelemetry(brama, metrics.getMeter('checkout'));
 */
export function openTelemetry(
  brama: Brama,
  meter: OtelMeter,
  opts?: OpenTelemetryOptions,
): OpenTelemetryExporter {
  checkBrama(brama);
  const { prefix, maxSeries } = parseMetricsOptions(opts, 'openTelemetry');
  if (typeof meter !== 'object' || meter === null || typeof meter.createHistogram !== 'function')
    throw invalidArgument('meter', 'an OpenTelemetry Meter', meter);
  const name = (suffix: string): string => `${prefix}.${suffix}`;
  const state = meter.createObservableGauge(name('connection.state'), {
    description: DESCRIPTIONS.state,
  });
  const transitions = meter.createObservableCounter(name('transitions'), {
    description: DESCRIPTIONS.transitions,
  });
  const calls = meter.createObservableCounter(name('calls'), {
    description: DESCRIPTIONS.calls,
  });
  const duration = meter.createHistogram(name('call.duration'), {
    description: DESCRIPTIONS.duration,
    unit: 's',
    advice: { explicitBucketBoundaries: BOUNDARIES },
  });
  const connections = meter.createObservableGauge(name('connections'), {
    description: DESCRIPTIONS.connections,
  });
  const degraded = meter.createObservableGauge(name('store.degraded'), {
    description: DESCRIPTIONS.degraded,
  });
  const dropped = meter.createObservableCounter(name('series.dropped'), {
    description: DESCRIPTIONS.dropped,
  });
  const slots = new SeriesSlots(maxSeries, attributesOf);
  const hook = attach(brama, (record, outcome, seconds) => {
    const series = slots.entryOf(record);
    if (series !== null) duration.record(seconds, series.calls[OUTCOMES.indexOf(outcome)]);
  });
  let closed = false;
  const observe = (result: OtelBatchResult): void => {
    for (const series of slots.sync(closed ? [] : hook.records())) {
      const { record } = series;
      const now = record.circuit.state;
      for (let i = 0; i < 4; i++)
        result.observe(state, METERED_STATES[i] === now ? 1 : 0, series.states[i]);
      const meter = record.meter;
      for (let i = 0; i < 5; i++)
        result.observe(calls, meter === null ? 0 : (meter.calls[i] as number), series.calls[i]);
      const matrix = meter === null ? null : meter.transitions;
      for (let i = 0; i < 16; i++) {
        const count = matrix === null ? 0 : (matrix[i] as number);
        if (count !== 0 || MAIN_TRANSITIONS.has(i))
          result.observe(transitions, count, transitionAttributes(series, i));
      }
    }
    result.observe(connections, hook.size);
    result.observe(degraded, hook.storeDegraded ? 1 : 0);
    result.observe(dropped, slots.dropped);
  };
  const observables = [state, transitions, calls, connections, degraded, dropped];
  meter.addBatchObservableCallback(observe, observables);
  return {
    close: () => {
      if (closed) return;
      closed = true;
      meter.removeBatchObservableCallback(observe, observables);
      hook.detach();
    },
  };
}

const OUTCOMES: readonly MeteredOutcome[] = METERED_OUTCOMES;

/** The attribute sets of one connection, made once. */
interface Series {
  readonly record: ConnectionRecord;
  readonly base: OtelAttributes;
  /** Per state (order of `METERED_STATES`). */
  readonly states: readonly OtelAttributes[];
  /** Per outcome (order of `METERED_OUTCOMES`), for `calls` and `call.duration`. */
  readonly calls: readonly OtelAttributes[];
  /** Per transition `from * 4 + to`, made when first observed. */
  readonly transitions: (OtelAttributes | undefined)[];
}

function attributesOf(record: ConnectionRecord): Series {
  const base = { identifier: wellFormed(record.identifier), scope: wellFormed(record.scope ?? '') };
  return {
    record,
    base,
    states: METERED_STATES.map((s) => ({ ...base, state: s })),
    calls: OUTCOMES.map((outcome) => ({ ...base, outcome })),
    transitions: [],
  };
}

function transitionAttributes(series: Series, i: number): OtelAttributes {
  return (series.transitions[i] ??= {
    ...series.base,
    from: METERED_STATES[i >> 2] as string,
    to: METERED_STATES[i & 3] as string,
  });
}
