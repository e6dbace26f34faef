import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyBatch } from '../../core/outcome-batch.js';
import { onFailure, onSuccess } from '../../core/transitions.js';
import { createRecord } from '../../core/record.js';
import { NO_OPTIONS, resolveSettings } from '../../core/settings.js';
import { circuit, NO_TRIALS, type CircuitState } from '../../core/state.js';
import { Coalescer, couldTrip, MAX_BATCH, type PendingBatch } from './coalescer.js';
import { createEntry, type Entry } from './view.js';
import { NO_DETAILS } from '../store.js';

function entry(state: CircuitState = 'closed', failureCount = 0): Entry {
  const e = createEntry(createRecord('db', null, NO_OPTIONS, {}, 0));
  e.record.circuit = circuit(state, failureCount, null, null, 0, NO_TRIALS, 0, 1);
  return e;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const settings = resolveSettings({}, { maxAttempts: 3 });
const failure = (text: string | null = null) => ({
  outcome: 'failure' as const,
  reason: text,
  text,
  at: 1,
  details: NO_DETAILS,
  slow: false,
});
const success = {
  outcome: 'success' as const,
  reason: null,
  text: null,
  at: 1,
  details: NO_DETAILS,
  slow: false,
};

describe('Coalescer', () => {
  it('sends the outcomes of one tick as one batch per connection, in order', async () => {
    const sent: [Entry, PendingBatch][] = [];
    const c = new Coalescer((e, p) => sent.push([e, p]));
    const a = entry();
    const b = entry();
    c.add(a, success, settings);
    c.add(b, failure('x'), settings);
    c.add(a, failure('y'), settings);
    c.add(a, success, settings);
    expect(sent).toHaveLength(0);
    expect(c.idle).toBe(false);
    await tick();
    expect(c.idle).toBe(true);
    expect(sent.map(([e]) => e)).toEqual([a, b]);
    expect(sent[0]![1].batch).toMatchObject({
      successes: 2,
      failures: 1,
      head: 0,
      run: 1,
      tail: 0,
    });
    expect(sent[0]![1].outcomes.map((o) => o.outcome)).toEqual(['success', 'failure', 'success']);
    expect(sent[1]![1].batch).toMatchObject({ failures: 1, head: 1, lastFailureReason: 'x' });
    expect(a.pending).toBeNull();
  });

  it('sends at once a batch that could trip, or when the view is half-open or unknown', () => {
    const sent: Entry[] = [];
    const c = new Coalescer((e) => sent.push(e));
    const near = entry('closed', 1);
    c.add(near, failure(), settings);
    expect(sent).toEqual([]);
    c.add(near, failure(), settings); // 1 known + 2 = maxAttempts
    expect(sent).toEqual([near]);
    for (const state of ['half_open', 'unknown'] as const) {
      const e = entry(state);
      c.add(e, success, settings);
      expect(sent.at(-1)).toBe(e);
    }
  });

  it('a full batch leaves at once; flush(entry) sends one connection now; forget drops it', async () => {
    const sent: PendingBatch[] = [];
    const c = new Coalescer((_e, p) => sent.push(p));
    const e = entry();
    for (let i = 0; i < MAX_BATCH; i++) c.add(e, success, settings);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.batch.successes).toBe(MAX_BATCH);
    c.add(e, success, settings);
    c.flush(e);
    expect(sent).toHaveLength(2);
    const gone = entry();
    c.add(gone, success, settings);
    c.forget(gone);
    await tick();
    expect(sent).toHaveLength(2);
  });

  it('could trip: by the count the view knows, by a run in the middle, never while open', () => {
    const batch = (over: Partial<PendingBatch['batch']>) => ({
      successes: 0, failures: 0, head: 0, run: 0, tail: 0, lastFailureReason: null, codes: '', ...over,
    }); // prettier-ignore
    expect(couldTrip(entry('closed', 2), batch({ failures: 1, head: 1 }), settings)).toBe(true);
    expect(couldTrip(entry('closed', 1), batch({ failures: 1, head: 1 }), settings)).toBe(false);
    expect(
      couldTrip(entry('closed', 0), batch({ successes: 2, failures: 3, run: 3 }), settings),
    ).toBe(true);
    // Failures before a success add to the known count too (conservative: never too late).
    expect(
      couldTrip(entry('closed', 2), batch({ successes: 1, failures: 1, head: 1 }), settings),
    ).toBe(true);
    expect(
      couldTrip(
        entry('closed', 1),
        batch({ successes: 1, failures: 1, tail: 1, run: 1 }),
        settings,
      ),
    ).toBe(false);
    expect(couldTrip(entry('open', 9), batch({ failures: 9, head: 9 }), settings)).toBe(false);
    expect(couldTrip(entry('closed', 9), batch({ successes: 3 }), settings)).toBe(false);
  });
  it('batches cut anywhere give the states of the outcomes one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        (steps, maxAttempts) => {
          const s = resolveSettings({}, { maxAttempts, expiry: 1_000 });
          const e = entry('closed', 0);
          const start = e.record.circuit;
          let sentState = start;
          const sent: PendingBatch[] = [];
          const c = new Coalescer((_e, p) => {
            sent.push(p);
            sentState = applyBatch(sentState, s, 7, p.batch);
          });
          let one = start;
          for (const [ok, cut] of steps) {
            c.add(e, ok ? success : failure('r'), s);
            one = ok ? onSuccess(one, s, 7) : onFailure(one, s, 7);
            if (cut) c.flush(e);
          }
          c.flush(e);
          expect(sentState).toEqual(one);
          // Every outcome left exactly once, in order.
          expect(sent.flatMap((p) => p.outcomes.map((o) => o.outcome))).toEqual(
            steps.map(([ok]) => (ok ? 'success' : 'failure')),
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
