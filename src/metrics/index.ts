/** brama/metrics: Prometheus text and OpenTelemetry instruments for a `Brama` registry. */
export {
  prometheus,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusExporter,
  type PrometheusOptions,
} from './prometheus.js';
export {
  openTelemetry,
  type OpenTelemetryExporter,
  type OpenTelemetryOptions,
  type OtelAttributes,
  type OtelBatchResult,
  type OtelHistogram,
  type OtelInstrumentOptions,
  type OtelMeter,
  type OtelObservable,
} from './open-telemetry.js';
export type { MetricsOptions } from './options.js';
