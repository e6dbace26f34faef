/**
 * Scenario 8: metrics (`brama/metrics`). What an attached Prometheus exporter costs the report
 * API's hot path (`success` and `failure` on a closed circuit, memory store) and a wrapped `run`
 * call, against the same registry without one; and the time of one scrape (`metrics()`, the text
 * made and flattened) of 10,000 connections that have seen traffic.
 */
import { Brama } from 'brama';
import { prometheus } from 'brama/metrics';
import { measure, timeBatch, type Plan, type Subject } from '../harness.js';
import { NEVER_TRIPS } from '../peers.js';
import { tableOf, type Table } from '../table.js';

/** A registry with one closed connection `api` that never trips; optionally exported. */
function registry(exported: boolean): Brama {
  const brama = new Brama({ cleanupInterval: 0, maxAttempts: NEVER_TRIPS });
  if (exported) prometheus(brama);
  brama.register('api');
  brama.success('api'); // closed, not unknown
  return brama;
}

const REPORTS = [
  ['success', (b: Brama) => b.success('api')],
  ['failure', (b: Brama) => b.failure('api')],
] as const;

/** Time per report, and per wrapped call, with and without an exporter attached. */
export async function meteringCost(plan: Plan): Promise<Table[]> {
  const tables: Table[] = [];
  for (const [what, report] of REPORTS) {
    const subjects = [false, true].map((exported): Subject => {
      const brama = registry(exported);
      return {
        name: `${what}.${exported ? 'prometheus' : 'plain'}`,
        batch: (n) => {
          for (let i = 0; i < n; i++) report(brama);
          return brama.status('api').state === 'closed' ? n : 0;
        },
      };
    });
    const measured = await measure(`8 metrics, ${what}`, subjects, plan);
    const table = tableOf(
      `Time per \`${what}('api')\` on a closed circuit (memory store)`,
      measured,
      [
        { key: `${what}.plain`, label: 'no exporter' },
        { key: `${what}.prometheus`, label: '`prometheus(brama)` attached' },
      ],
      { baseline: `${what}.plain`, unit: 'ns/op' },
    );
    tables.push({ ...table, ratioLabel: 'x no exporter' });
  }
  const runs = [false, true].map((exported): Subject => {
    const brama = registry(exported);
    const fn = (): number => 1;
    return {
      name: `run.${exported ? 'prometheus' : 'plain'}`,
      batch: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += await brama.run('api', fn);
        return s;
      },
    };
  });
  const measured = await measure('8 metrics, run', runs, plan);
  const table = tableOf(
    "Time per awaited `run('api', fn)` on a closed circuit (timed while exported)",
    measured,
    [
      { key: 'run.plain', label: 'no exporter' },
      { key: 'run.prometheus', label: '`prometheus(brama)` attached' },
    ],
    { baseline: 'run.plain', unit: 'ns/call' },
  );
  tables.push({ ...table, ratioLabel: 'x no exporter' });
  return tables;
}

export interface ScrapeResult {
  readonly count: number;
  readonly table: Table;
}

/**
 * One `metrics()` scrape of `count` connections, `rounds` times, after `warmup` untimed ones
 * (a server scraped every few seconds runs the optimised code: so does this).
 * Traffic: every connection has successes and failures reported; one in ten has wrapped calls
 * (a duration histogram) and one in a hundred has been opened and reset (transitions).
 */
export async function scrapeTime(
  count: number,
  rounds: number,
  warmup: number,
): Promise<ScrapeResult> {
  const brama = new Brama({ cleanupInterval: 0, maxAttempts: NEVER_TRIPS });
  const exporter = prometheus(brama);
  for (let i = 0; i < count; i++) {
    const id = `connection-${i}`;
    brama.register(id, { scope: i % 2 === 0 ? 'payments' : null });
    const scope = { scope: i % 2 === 0 ? 'payments' : null };
    for (let k = 0; k < 10; k++) brama.success(id, scope);
    brama.failure(id, { ...scope, reason: 'timeout' });
    if (i % 10 === 0) for (let k = 0; k < 3; k++) await brama.run(id, () => k, scope);
    if (i % 100 === 0) {
      brama.openCircuit(id, { ...scope, expiry: 1 });
      brama.resetCircuit(id, scope);
    }
  }
  let bytes = 0;
  const subject: Subject = {
    name: 'scrape',
    batch: (n) => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        // Flattened and measured, as a server writing it out would: the string is built, not
        // left as a rope.
        bytes = Buffer.byteLength(exporter.metrics());
        if (bytes > count * 100) ok++;
      }
      return ok;
    },
  };
  process.stderr.write(`  8 metrics, scrape of ${count} connections: ${rounds} rounds\n`);
  for (let i = 0; i < warmup; i++) await timeBatch(subject, 1);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push((await timeBatch(subject, 1)) / 1e6);
  exporter.close();
  await brama.close();
  return {
    count,
    table: {
      title: `One \`metrics()\` scrape of ${count.toLocaleString('en-US')} connections with traffic (${Math.round(bytes / 1024).toLocaleString('en-US')} KiB of text)`,
      unit: 'ms',
      ratioLabel: null,
      rows: [
        { key: 'scrape', label: '`prometheus(brama).metrics()`', samples, ratio: null, ops: 1 },
      ],
      notes: [],
    },
  };
}
