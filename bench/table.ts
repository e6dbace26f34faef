import type { Measurement } from './harness.js';
import { pairedRatios } from './stats.js';

/** One line of a result table: per-round samples in the table's unit. */
export interface Row {
  /** Stable id, used by the targets. */
  readonly key: string;
  readonly label: string;
  readonly samples: readonly number[];
  /** Per-round ratio to the table's baseline row, `null` for the baseline itself or none. */
  readonly ratio: readonly number[] | null;
  /** Operations per timed batch (for the record). */
  readonly ops: number;
}

export type Unit = 'ns/call' | 'ns/op' | 'calls/s' | 'bytes' | 'ms';

export interface Table {
  readonly title: string;
  readonly unit: Unit;
  /** What the ratio column means, `null` when the table has none. */
  readonly ratioLabel: string | null;
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
}

export interface Labelled {
  readonly key: string;
  readonly label: string;
}

/**
 * Builds a table from measurements made by subjects named after `labels[i].key`. `baseline`:
 * the key of the row the others are divided by. `rate`: report calls per second instead of ns.
 */
export function tableOf(
  title: string,
  measured: readonly Measurement[],
  labels: readonly Labelled[],
  options: { baseline?: string; rate?: boolean; unit?: Unit; notes?: readonly string[] } = {},
): Table {
  const byKey = new Map(measured.map((m) => [m.name, m]));
  const values = (m: Measurement): number[] =>
    options.rate === true ? m.nsPerOp.map((ns) => 1e9 / ns) : [...m.nsPerOp];
  const base = options.baseline === undefined ? undefined : byKey.get(options.baseline);
  const rows = labels.map(({ key, label }): Row => {
    const m = byKey.get(key);
    if (m === undefined) throw new Error(`no measurement named ${key}`);
    const samples = values(m);
    const ratio = base === undefined || base === m ? null : pairedRatios(samples, values(base));
    return { key, label, samples, ratio, ops: m.ops };
  });
  return {
    title,
    unit: options.unit ?? (options.rate === true ? 'calls/s' : 'ns/call'),
    ratioLabel:
      base === undefined ? null : options.rate === true ? 'x raw throughput' : 'x raw time',
    rows,
    notes: options.notes ?? [],
  };
}
