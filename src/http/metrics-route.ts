/**
 * `GET /metrics`: the Prometheus text of `brama/metrics`, from one exporter created on the first
 * request (so a handler that is never scraped attaches no metering to the registry).
 */
import type { Brama } from '../brama.js';
import { prometheus, type PrometheusExporter } from '../metrics/prometheus.js';

/** The metrics route of one handler. */
export class MetricsRoute {
  private exporter: PrometheusExporter | null = null;

  constructor(private readonly brama: Brama) {}

  /** The current exposition (attaches the exporter on first use). */
  render(): { contentType: string; text: string } {
    this.exporter ??= prometheus(this.brama);
    return { contentType: this.exporter.contentType, text: this.exporter.metrics() };
  }

  /** Releases the exporter, if one was created. */
  close(): void {
    this.exporter?.close();
    this.exporter = null;
  }
}
