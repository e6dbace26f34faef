/** Number formatting and the generic result table of the generated BENCHMARKS.md part. */
import { summarize, type Summary } from './stats.js';
import type { Table } from './table.js';

export function num(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'calls/s') return Math.round(value).toLocaleString('en-US');
  if (unit.startsWith('x')) return value.toFixed(2);
  if (unit === 'bytes') return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function range(s: Summary, unit: string, lo: 'min' | 'p25', hi: 'max' | 'p75'): string {
  return `${num(s[lo], unit)}–${num(s[hi], unit)}`;
}

export function renderTable(t: Table): string {
  const head = [`| | median ${t.unit} | p25–p75 | min–max |`];
  const rule = ['| --- | ---: | ---: | ---: |'];
  if (t.ratioLabel !== null) {
    head[0] += ` ${t.ratioLabel} (median) | ratio min–max |`;
    rule[0] += ' ---: | ---: |';
  }
  const lines = [...head, ...rule];
  for (const r of t.rows) {
    const s = summarize(r.samples);
    let line = `| ${r.label} | ${num(s.median, t.unit)} | ${range(s, t.unit, 'p25', 'p75')} | ${range(s, t.unit, 'min', 'max')} |`;
    if (t.ratioLabel !== null) {
      if (r.ratio === null) line += ' 1 (baseline) | |';
      else {
        const q = summarize(r.ratio);
        line += ` **${num(q.median, 'x')}** | ${range(q, 'x', 'min', 'max')} |`;
      }
    }
    lines.push(line);
  }
  const ops = t.rows.map((r) => r.ops);
  const rounds = t.rows[0]?.samples.length ?? 0;
  const notes = [
    `${rounds} rounds; ${Math.min(...ops).toLocaleString('en-US')}–${Math.max(...ops).toLocaleString('en-US')} operations per timed batch.`,
    ...t.notes,
  ];
  return `### ${t.title}\n\n${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}
