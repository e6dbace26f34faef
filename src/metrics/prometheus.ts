/**
 * `prometheus(brama)`: the registry's metrics in the Prometheus text exposition format 0.0.4,
 * read from the connections' meters when scraped (nothing is pushed, nothing runs between
 * scrapes).
 */
import {
  DURATION_BOUNDS_MS,
  METERED_OUTCOMES,
  METERED_STATES,
  type CallMeter,
} from '../core/call-meter.js';
import type { ConnectionRecord } from '../core/record.js';
import type { CircuitState } from '../core/state.js';
import type { Brama } from '../brama.js';
import {
  attach,
  checkBrama,
  DESCRIPTIONS,
  parseMetricsOptions,
  type MetricsOptions,
} from './options.js';
import { MAIN_TRANSITIONS, SeriesSlots, wellFormed } from './series.js';
import { chunk, TextWriter, type Chunk } from './text-writer.js';

/** A Prometheus exporter attached to one registry. */
export interface PrometheusExporter {
  /** The `Content-Type` of {@link metrics}' text: `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /**
   * The current metrics as Prometheus text (format 0.0.4). After `close()`, or once the
   * registry is closed, the text has no per-connection series (`brama_connections` reads 0
   * after the registry's `close()`).
   */
  metrics(): string;
  /** Detaches the exporter: counting stops unless another exporter is attached. Idempotent. */
  close(): void;
}

/** Options of {@link prometheus}. */
export type PrometheusOptions = MetricsOptions;

/** Content type of the text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Attaches a Prometheus exporter to `brama`: from now on its calls, reports and transitions are
 * counted, and `metrics()` renders them with each connection's state. Throws
 * `BRAMA_INVALID_OPTION` for a bad `prefix` or `maxSeries`.
 * @example
 * const exporter = prometheus(brama);
 * res.setHeader('Content-Type', exporter.contentType).end(exporter.metrics());
 */
export function prometheus(brama: Brama, opts?: PrometheusOptions): PrometheusExporter {
  checkBrama(brama);
  const { prefix, maxSeries } = parseMetricsOptions(opts, 'prometheus');
  const hook = attach(brama, null);
  const slots = new SeriesSlots(maxSeries, labelsOf);
  const text = new Families(prefix);
  let closed = false;
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    metrics: () => {
      const entries = slots.sync(closed ? [] : hook.records());
      return text.render(entries, hook.size, hook.storeDegraded, slots.dropped);
    },
    close: () => {
      closed = true;
      hook.detach();
    },
  };
}

/** What the exporter keeps per connection: its record and its escaped label pairs. */
interface Series {
  readonly record: ConnectionRecord;
  /** `identifier="…",scope="…"`, escaped and encoded once. */
  readonly labels: Chunk;
  /**
   * The connection's state lines as last written, and the state they show: states change
   * rarely, so most scrapes copy these bytes instead of writing four lines again.
   */
  stateLines: Chunk | null;
  stateShown: CircuitState | null;
  /** Its transition lines as last written, and how many transitions they count. */
  transitionLines: Chunk | null;
  transitionsShown: number;
}

function labelsOf(record: ConnectionRecord): Series {
  const scope = escapeLabel(record.scope ?? '');
  return {
    record,
    labels: chunk(`identifier="${escapeLabel(record.identifier)}",scope="${scope}"`),
    stateLines: null,
    stateShown: null,
    transitionLines: null,
    transitionsShown: 0,
  };
}

/**
 * A label value as the text format wants it: `\`, `"` and line feed escaped (`\\`, `\"`, `\n`),
 * lone surrogates replaced by U+FFFD (see `wellFormed`).
 */
export function escapeLabel(value: string): string {
  const text = wellFormed(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPED, (c) => ESCAPES[c] as string) : text;
}

const NEEDS_ESCAPE = /[\\"\n]/;
const ESCAPED = /[\\"\n]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n' };

const OUTCOME_LABELS = METERED_OUTCOMES.map((o) => chunk(`,outcome="${o}"}`));
const STATE_LABELS = METERED_STATES.map((s) => chunk(`,state="${s}"}`));
const TRANSITION_LABELS = METERED_STATES.flatMap((from) =>
  METERED_STATES.map((to) => chunk(`,from="${from}",to="${to}"}`)),
);
/** Per outcome, per bucket: `,outcome="…",le="…"}`. */
const BUCKET_LABELS = METERED_OUTCOMES.map((o) =>
  [...DURATION_BOUNDS_MS.map((ms) => String(ms / 1000)), '+Inf'].map((le) =>
    chunk(`,outcome="${o}",le="${le}"}`),
  ),
);

/** The metric families of one exporter, written in the order they are declared here. */
class Families {
  private readonly heads: Readonly<Record<string, Chunk>>;
  private readonly names: Readonly<Record<string, Chunk>>;
  /** The buffer of the last text, reused by the next (it grows to the largest text). */
  private buffer: Buffer | null = null;
  /** Where a connection's lines are written before they are kept (see `Series`). */
  private readonly scratch = new TextWriter(null);

  constructor(prefix: string) {
    const family = (name: string, type: string, help: string): Chunk =>
      chunk(`# HELP ${prefix}_${name} ${help}\n# TYPE ${prefix}_${name} ${type}\n`);
    this.heads = {
      state: family('connection_state', 'gauge', DESCRIPTIONS.state),
      transitions: family('transitions_total', 'counter', DESCRIPTIONS.transitions),
      calls: family('calls_total', 'counter', DESCRIPTIONS.calls),
      duration: family('call_duration_seconds', 'histogram', DESCRIPTIONS.duration),
      connections: family('connections', 'gauge', DESCRIPTIONS.connections),
      degraded: family('store_degraded', 'gauge', DESCRIPTIONS.degraded),
      dropped: family('series_dropped_total', 'counter', DESCRIPTIONS.dropped),
    };
    const name = (text: string): Chunk => chunk(`${prefix}_${text}`);
    this.names = {
      state: name('connection_state{'),
      transitions: name('transitions_total{'),
      calls: name('calls_total{'),
      bucket: name('call_duration_seconds_bucket{'),
      sum: name('call_duration_seconds_sum{'),
      count: name('call_duration_seconds_count{'),
      connections: name('connections'),
      degraded: name('store_degraded'),
      dropped: name('series_dropped_total'),
    };
  }

  render(entries: readonly Series[], size: number, degraded: boolean, dropped: number): string {
    const out = new TextWriter(this.buffer);
    const { heads: h, names: n } = this;
    const scratch = this.scratch;
    out.chunk(h.state as Chunk);
    for (const series of entries) {
      const state = series.record.circuit.state;
      if (series.stateShown !== state || series.stateLines === null) {
        scratch.reset();
        for (let i = 0; i < 4; i++) {
          line(scratch, n.state as Chunk, series.labels, STATE_LABELS[i] as Chunk);
          scratch.value(METERED_STATES[i] === state ? 1 : 0);
        }
        series.stateLines = scratch.take();
        series.stateShown = state;
      }
      out.chunk(series.stateLines);
    }
    out.chunk(h.transitions as Chunk);
    for (const series of entries) {
      const { record } = series;
      const matrix = record.meter === null ? null : record.meter.transitions;
      let total = 0;
      if (matrix !== null) for (let i = 0; i < 16; i++) total += matrix[i] as number;
      if (series.transitionsShown !== total || series.transitionLines === null) {
        scratch.reset();
        for (let i = 0; i < 16; i++) {
          const count = matrix === null ? 0 : (matrix[i] as number);
          if (count === 0 && !MAIN_TRANSITIONS.has(i)) continue;
          line(scratch, n.transitions as Chunk, series.labels, TRANSITION_LABELS[i] as Chunk);
          scratch.value(count);
        }
        series.transitionLines = scratch.take();
        series.transitionsShown = total;
      }
      out.chunk(series.transitionLines);
    }
    out.chunk(h.calls as Chunk);
    for (const { record, labels } of entries) {
      const meter = record.meter;
      for (let i = 0; i < 5; i++) {
        line(out, n.calls as Chunk, labels, OUTCOME_LABELS[i] as Chunk);
        out.value(meter === null ? 0 : (meter.calls[i] as number));
      }
    }
    out.chunk(h.duration as Chunk);
    for (const { record, labels } of entries) {
      if (record.meter !== null) this.histograms(out, labels, record.meter);
    }
    out.chunk(h.connections as Chunk);
    out.chunk(n.connections as Chunk);
    out.value(size);
    out.chunk(h.degraded as Chunk);
    out.chunk(n.degraded as Chunk);
    out.value(degraded ? 1 : 0);
    out.chunk(h.dropped as Chunk);
    out.chunk(n.dropped as Chunk);
    out.value(dropped);
    this.buffer = out.bytes;
    return out.toString();
  }

  private histograms(out: TextWriter, labels: Chunk, meter: CallMeter): void {
    const n = this.names;
    for (let o = 0; o < 5; o++) {
      const histogram = meter.durations[o];
      if (histogram === null || histogram === undefined) continue;
      const les = BUCKET_LABELS[o] as Chunk[];
      let cumulative = 0;
      for (let i = 0; i < les.length; i++) {
        cumulative += histogram.buckets[i] as number;
        line(out, n.bucket as Chunk, labels, les[i] as Chunk);
        out.value(cumulative);
      }
      line(out, n.sum as Chunk, labels, OUTCOME_LABELS[o] as Chunk);
      out.value(histogram.sumMs / 1000);
      line(out, n.count as Chunk, labels, OUTCOME_LABELS[o] as Chunk);
      out.value(histogram.count);
    }
  }
}

/** Writes `name{labels,more}` (the value follows). */
function line(out: TextWriter, name: Chunk, labels: Chunk, more: Chunk): void {
  out.chunks(name, labels, more);
}
