import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOutcome,
  applyBatch,
  emptyBatch,
  isEmptyBatch,
  type OutcomeBatch,
} from './outcome-batch.js';
import { resolveSettings } from './settings.js';
import { circuit, CIRCUIT_STATES, NO_TRIALS, type Circuit } from './state.js';
import { onFailure, onSuccess } from './transitions.js';

type Outcome = 'success' | 'failure';

function batchOf(outcomes: readonly Outcome[]): OutcomeBatch {
  const batch = emptyBatch();
  outcomes.forEach((o, i) => addOutcome(batch, o, o === 'failure' ? `f${i}` : null));
  return batch;
}

describe('OutcomeBatch', () => {
  it('summarises outcomes in order: head, longest run, tail, last reason', () => {
    const b = batchOf([
      'failure',
      'failure',
      'success',
      'failure',
      'failure',
      'failure',
      'success',
      'failure',
    ]);
    expect(b).toEqual({
      successes: 2,
      failures: 6,
      head: 2,
      run: 3,
      tail: 1,
      lastFailureReason: 'f7',
      codes: 'ffsfffsf',
    });
    expect(isEmptyBatch(emptyBatch())).toBe(true);
    expect(isEmptyBatch(b)).toBe(false);
  });

  it('trips on a run in the middle even when the batch ends with a success', () => {
    const s = resolveSettings({}, { maxAttempts: 3 });
    const closed = circuit('closed', 0, null, null, 0, NO_TRIALS, 0, 1);
    const b = batchOf(['success', 'failure', 'failure', 'failure', 'success']);
    const after = applyBatch(closed, s, 100, b);
    expect(after).toMatchObject({ state: 'open', failureCount: 3, openUntil: 100 + s.expiry });
  });

  it('returns the same circuit when nothing changes', () => {
    const s = resolveSettings({}, {});
    const closed = circuit('closed', 0, null, null, 0, NO_TRIALS, 0, 1);
    expect(applyBatch(closed, s, 5, batchOf(['success', 'success']))).toBe(closed);
    expect(applyBatch(closed, s, 5, emptyBatch())).toBe(closed);
  });

  it('gives exactly the circuit of applying the outcomes one by one (property)', () => {
    const start = fc
      .record({
        state: fc.constantFrom(...CIRCUIT_STATES),
        failureCount: fc.integer({ min: 0, max: 5 }),
        openings: fc.integer({ min: 0, max: 3 }),
        generation: fc.integer({ min: 0, max: 5 }),
      })
      .map((r): Circuit =>
        circuit(
          r.state,
          r.state === 'unknown' ? 0 : r.failureCount,
          r.state === 'unknown' || r.state === 'closed' ? null : 10,
          r.state === 'open' ? 1_000_000 : null,
          r.state === 'closed' || r.state === 'unknown' ? 0 : Math.max(1, r.openings),
          NO_TRIALS,
          10,
          r.generation,
        ),
      );
    const outcomes = fc.array(fc.constantFrom<Outcome>('success', 'failure'), { maxLength: 30 });
    const cuts = fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 6 });
    fc.assert(
      fc.property(
        start,
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('fixed', 'progressive'),
        outcomes,
        cuts,
        (c0, maxAttempts, expiryStrategy, sequence, at) => {
          const s = resolveSettings({}, { maxAttempts, expiryStrategy, expiry: 1_000 });
          const now = 500;
          let one = c0;
          for (const o of sequence)
            one = o === 'success' ? onSuccess(one, s, now) : onFailure(one, s, now);
          // The same outcomes, cut into batches anywhere.
          const bounds = [
            ...new Set([0, ...at.filter((i) => i <= sequence.length), sequence.length]),
          ];
          bounds.sort((a, b) => a - b);
          let batched = c0;
          for (let i = 1; i < bounds.length; i++) {
            batched = applyBatch(
              batched,
              s,
              now,
              batchOf(sequence.slice(bounds[i - 1], bounds[i])),
            );
          }
          expect(batched).toEqual(one);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
