/**
 * The measurement loop: warm-up, calibration, then interleaved rounds of timed batches.
 *
 * Each subject owns its loop (`batch(n)` runs `n` operations and returns how many produced the
 * expected result), so every loop body is monomorphic, and the count both consumes the results
 * (no dead-code elimination) and proves that every operation did what it should.
 */

/** One thing to measure. */
export interface Subject {
  readonly name: string;
  /** Runs `n` operations; returns how many produced the expected result (must be `n`). */
  readonly batch: (n: number) => number | Promise<number>;
}

export interface Plan {
  /** Timed rounds; every subject runs one batch per round, in a rotating order. */
  readonly rounds: number;
  /** Target duration of one timed batch (ms); sets the number of operations per batch. */
  readonly batchMs: number;
  /** Untimed warm-up per subject (ms), long enough for the optimizing compiler to kick in. */
  readonly warmupMs: number;
}

export interface Measurement {
  readonly name: string;
  /** Operations per timed batch. */
  readonly ops: number;
  /** Nanoseconds per operation, one value per round. */
  readonly nsPerOp: readonly number[];
}

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function progress(text: string): void {
  process.stderr.write(text);
}

/** Runs one batch of `n` after a full GC; returns elapsed nanoseconds. */
export async function timeBatch(subject: Subject, n: number): Promise<number> {
  gc();
  const start = process.hrtime.bigint();
  const done = await subject.batch(n);
  const elapsed = Number(process.hrtime.bigint() - start);
  if (done !== n) {
    throw new Error(`${subject.name}: ${done} of ${n} operations gave the expected result`);
  }
  return elapsed;
}

/** Warms a subject up and returns how many operations make a batch of about `batchMs`. */
export async function warmUp(subject: Subject, plan: Plan): Promise<number> {
  let n = 16;
  let spent = 0;
  let done = 0;
  let perOp = Number.POSITIVE_INFINITY;
  while (spent < plan.warmupMs * 1e6 || done < 1_000) {
    const elapsed = await timeBatch(subject, n);
    spent += elapsed;
    done += n;
    perOp = elapsed / n;
    if (elapsed < (plan.batchMs * 1e6) / 2) n *= 2;
  }
  return Math.max(64, Math.round((plan.batchMs * 1e6) / perOp));
}

/**
 * Measures every subject in interleaved rounds. `fixedOps` skips calibration (each batch runs
 * exactly that many operations; used where a batch is a whole workload, e.g. throughput).
 */
export async function measure(
  label: string,
  subjects: readonly Subject[],
  plan: Plan,
  fixedOps?: number,
): Promise<Measurement[]> {
  progress(`  ${label}: warm-up`);
  const ops: number[] = [];
  for (const subject of subjects) {
    if (fixedOps === undefined) ops.push(await warmUp(subject, plan));
    else {
      const warm = Date.now() + plan.warmupMs;
      do await timeBatch(subject, fixedOps);
      while (Date.now() < warm);
      ops.push(fixedOps);
    }
    progress('.');
  }
  progress(' rounds ');
  const samples: number[][] = subjects.map(() => []);
  for (let round = 0; round < plan.rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (round + k) % subjects.length;
      const n = ops[i] as number;
      const elapsed = await timeBatch(subjects[i] as Subject, n);
      (samples[i] as number[]).push(elapsed / n);
    }
    progress(`${round + 1} `);
  }
  progress('\n');
  return subjects.map((s, i) => ({
    name: s.name,
    ops: ops[i] as number,
    nsPerOp: samples[i] as number[],
  }));
}
