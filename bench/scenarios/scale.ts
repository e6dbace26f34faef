/**
 * Scenario 5: creating 10,000 and 100,000 connections (brama) or breakers (the peers), each
 * library in fresh child processes: time per creation, retained heap per connection after GC,
 * and whether the process exits by itself when it does not clean up.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScaleReport } from '../scale-child.js';
import { summarize, type Summary } from '../stats.js';

export const SCALE_LIBS = ['brama', 'cockatiel', 'opossum'] as const;
export type ScaleLib = (typeof SCALE_LIBS)[number];

/** How long a child may take to exit by itself after printing its report. */
export const EXIT_TIMEOUT_MS = 5_000;
/** How long a child may take to create and measure (generous: opossum at 100,000 is slow). */
const RUN_TIMEOUT_MS = 180_000;

interface ChildOutcome {
  readonly report: ScaleReport;
  /** Milliseconds from the report to the exit, `null` when it had to be killed. */
  readonly exitMs: number | null;
}

export interface ScaleRow {
  readonly lib: ScaleLib;
  readonly count: number;
  readonly nsPerCreate: Summary;
  readonly bytesPerConnection: Summary;
  /** Per-round values behind the summaries. */
  readonly nsSamples: readonly number[];
  readonly bytesSamples: readonly number[];
  readonly rounds: number;
  /** Rounds in which the child exited by itself within {@link EXIT_TIMEOUT_MS}. */
  readonly exitedByItself: number;
  /** Median time from report to exit over the rounds that exited. */
  readonly exitMs: number | null;
}

const CHILD = fileURLToPath(new URL('../scale-child.js', import.meta.url));

function runChild(lib: ScaleLib, count: number): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD, lib, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let report: ScaleReport | null = null;
    let reportedAt = 0;
    let killedAfterReport = false;
    let exitTimer: NodeJS.Timeout | undefined;
    const runTimer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (report !== null || end < 0) return;
      report = JSON.parse(out.slice(0, end)) as ScaleReport;
      reportedAt = performance.now();
      clearTimeout(runTimer);
      exitTimer = setTimeout(() => {
        killedAfterReport = true;
        child.kill('SIGKILL');
      }, EXIT_TIMEOUT_MS);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(runTimer);
      clearTimeout(exitTimer);
      if (report === null) {
        reject(new Error(`${lib} x ${count}: child ended (${code ?? signal}) without a report`));
        return;
      }
      const exitMs = killedAfterReport ? null : performance.now() - reportedAt;
      resolve({ report, exitMs });
    });
  });
}

export async function scale(counts: readonly number[], rounds: number): Promise<ScaleRow[]> {
  const results = new Map<string, ChildOutcome[]>();
  process.stderr.write('  5 scale: rounds ');
  for (let round = 0; round < rounds; round++) {
    for (const count of counts) {
      for (const lib of SCALE_LIBS) {
        const key = `${lib}:${count}`;
        const list = results.get(key) ?? [];
        list.push(await runChild(lib, count));
        results.set(key, list);
      }
    }
    process.stderr.write(`${round + 1} `);
  }
  process.stderr.write('\n');
  const rows: ScaleRow[] = [];
  for (const count of counts) {
    for (const lib of SCALE_LIBS) {
      const list = results.get(`${lib}:${count}`) ?? [];
      const exits = list.map((o) => o.exitMs).filter((ms): ms is number => ms !== null);
      const nsSamples = list.map((o) => o.report.nsPerCreate);
      const bytesSamples = list.map((o) => o.report.bytesPerConnection);
      rows.push({
        lib,
        count,
        nsPerCreate: summarize(nsSamples),
        bytesPerConnection: summarize(bytesSamples),
        nsSamples,
        bytesSamples,
        rounds: list.length,
        exitedByItself: exits.length,
        exitMs: exits.length === 0 ? null : summarize(exits).median,
      });
    }
  }
  return rows;
}
