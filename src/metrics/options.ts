/** The options of the `brama/metrics` exporters, validated once when an exporter is made. */
import { readOptions } from '../core/arguments.js';
import { invalidArgument, invalidOption } from '../core/errors.js';
import type { Brama } from '../brama.js';
import { INTERNALS, type MeterHook } from '../internals.js';
import { isBrama } from '../is-brama.js';
import type { DurationListener } from '../metering.js';

/** Options of `prometheus()` and `openTelemetry()`. */
export interface MetricsOptions {
  /**
   * First part of every metric name: `brama_calls_total` (Prometheus) or `brama.calls`
   * (OpenTelemetry). Prometheus: letters, digits, `_` and `:`, not starting with a digit;
   * OpenTelemetry: letters, digits, `_`, `.`, `-` and `/`, starting with a letter.
   * @default 'brama'
   * @example prometheus(brama, { prefix: 'checkout_brama' })
   */
  prefix?: string | undefined;
  /**
   * How many connections get labelled series: the first ones the exporter sees (a connection
   * that leaves frees its place). Each one left out is counted once by `series_dropped`.
   * @default 10_000
   * @example prometheus(brama, { maxSeries: 500 })
   */
  maxSeries?: number | undefined;
}

/** What each metric family means: Prometheus' HELP text and OpenTelemetry's description. */
export const DESCRIPTIONS = {
  state: 'State of each connection: 1 for its current state, 0 for the others.',
  transitions: 'Changes of state this process saw, by state before and after.',
  calls: 'Calls and reports by outcome (success, failure, ignored, rejected, timeout).',
  duration: 'Duration of wrapped calls in seconds, by outcome.',
  connections: 'Registered connections.',
  degraded: '1 while the store works on local state (its backend is unreachable), else 0.',
  dropped: 'Connections left without labelled series by the maxSeries cap.',
} as const;

/** Validated options. */
export interface ParsedMetricsOptions {
  readonly prefix: string;
  readonly maxSeries: number;
}

const KEYS: ReadonlySet<string> = new Set(['prefix', 'maxSeries']);
const PROMETHEUS_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** OpenTelemetry's instrument name syntax (at most 255 characters with the longest suffix). */
const OTEL_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,200}$/;

/** Validates the options of one exporter (`what`: its function's name, for messages). */
export function parseMetricsOptions(
  opts: unknown,
  what: 'prometheus' | 'openTelemetry',
): ParsedMetricsOptions {
  const o = readOptions(opts, `${what} options`, KEYS);
  const prefix = o.prefix ?? 'brama';
  const syntax = what === 'prometheus' ? PROMETHEUS_NAME : OTEL_NAME;
  if (typeof prefix !== 'string' || !syntax.test(prefix)) {
    const expected =
      what === 'prometheus'
        ? 'a metric name: letters, digits, "_" and ":", not starting with a digit'
        : 'an instrument name of at most 201 characters: letters, digits, "_", ".", "-" and "/", starting with a letter';
    throw invalidOption('prefix', expected, prefix);
  }
  const maxSeries = o.maxSeries ?? 10_000;
  if (typeof maxSeries !== 'number' || !Number.isSafeInteger(maxSeries) || maxSeries < 0)
    throw invalidOption('maxSeries', 'an integer >= 0', maxSeries);
  return { prefix, maxSeries };
}

/** Throws `BRAMA_INVALID_ARGUMENT` unless `brama` is a registry (of any copy of brama). */
export function checkBrama(brama: unknown): asserts brama is Brama {
  if (!isBrama(brama)) throw invalidArgument('brama', 'a Brama instance', brama);
}

/** Attaches an exporter to `brama` (checked to be a registry of any copy of brama). */
export function attach(brama: unknown, onDuration: DurationListener | null): MeterHook {
  checkBrama(brama);
  return brama[INTERNALS]().attachMeter(onDuration);
}
