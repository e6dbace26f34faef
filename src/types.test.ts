/**
 * Types that narrow: checked by `tsc --noEmit` (npm run typecheck) and by vitest's
 * `expectTypeOf`. Every `@ts-expect-error` below fails the type-check if the line compiles.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Brama,
  BramaError,
  CircuitOpenError,
  isBramaError,
  type BramaErrorCode,
  type BramaEvent,
  type BramaEventOf,
  type BramaEventType,
  type ConnectionStore,
  type EventFilter,
  type RemovalCause,
  type StoreDegradedData,
  type TransitionData,
} from './index.js';
import { ManualClock, recordEvents } from './testing/index.js';

const setup = () => {
  const brama = new Brama({ clock: new ManualClock(0), cleanupInterval: 0, maxAttempts: 1 });
  brama.register('api');
  return brama;
};

function refusal(brama: Brama): Promise<unknown> {
  return brama.run('api', () => 'never called').catch((error: unknown) => error);
}

describe('isBramaError narrows', () => {
  it("to CircuitOpenError for 'BRAMA_CIRCUIT_OPEN'", async () => {
    const brama = setup();
    brama.failure('api');
    const error = await refusal(brama);
    expect.assertions(3);
    if (isBramaError(error, 'BRAMA_CIRCUIT_OPEN')) {
      expectTypeOf(error).toEqualTypeOf<CircuitOpenError>();
      expectTypeOf(error.retryAfterMs).toEqualTypeOf<number>();
      expectTypeOf(error.code).toEqualTypeOf<'BRAMA_CIRCUIT_OPEN'>();
      expect(error.retryAfterMs).toBe(60_000);
      expect(error.state).toBe('open');
      expect(error).toBeInstanceOf(CircuitOpenError);
    }
  });

  it('to a BramaError with that literal code for the other codes', () => {
    const brama = setup();
    let error: unknown;
    try {
      brama.status('ghost');
    } catch (e) {
      error = e;
    }
    expect(isBramaError(error, 'BRAMA_NOT_FOUND')).toBe(true);
    expect(isBramaError(error, 'BRAMA_TIMEOUT')).toBe(false);
    if (isBramaError(error, 'BRAMA_NOT_FOUND')) {
      expectTypeOf(error).toExtend<BramaError>();
      expectTypeOf(error.code).toEqualTypeOf<'BRAMA_NOT_FOUND'>();
      // @ts-expect-error only a CircuitOpenError has retryAfterMs
      void error.retryAfterMs;
    }
  });

  it('to BramaError without a code, or with a code only known at run time', () => {
    const value: unknown = new BramaError('BRAMA_CLOSED', 'closed');
    const code = 'BRAMA_CLOSED' as BramaErrorCode | undefined;
    expect(isBramaError(value)).toBe(true);
    expect(isBramaError(value, code)).toBe(true);
    if (isBramaError(value)) expectTypeOf(value).toEqualTypeOf<BramaError>();
    if (isBramaError(value, code)) expectTypeOf(value.code).toEqualTypeOf<BramaErrorCode>();
  });
});

describe('subscribe narrows the handler to the filtered event types', () => {
  it('one type: the handler sees that event, with its data', () => {
    const brama = setup();
    const seen: TransitionData[] = [];
    brama.subscribe(
      (event) => {
        expectTypeOf(event).toEqualTypeOf<BramaEventOf<'circuit_opened'>>();
        expectTypeOf(event.type).toEqualTypeOf<'circuit_opened'>();
        seen.push(event.data); // TransitionData, no `event.type === ...` check needed
      },
      { events: ['circuit_opened'] },
    );
    brama.failure('api');
    expect(seen.map((d) => [d.from, d.to, d.cause])).toEqual([['unknown', 'open', 'failure']]);
  });

  it('several types: a union that narrows on `type`; the filter predicate too', () => {
    const brama = setup();
    const got: string[] = [];
    brama.subscribe(
      (event) => {
        expectTypeOf(event.type).toEqualTypeOf<'failure' | 'circuit_opened'>();
        if (event.type === 'failure') got.push(`failure:${String(event.data.reason)}`);
        else got.push(`opened:${event.data.to}`);
        // @ts-expect-error `success` is not among the filtered types
        if (event.type === 'success') got.push('impossible');
      },
      {
        events: ['failure', 'circuit_opened'],
        filter: (event) => {
          expectTypeOf(event).toEqualTypeOf<BramaEventOf<'failure' | 'circuit_opened'>>();
          return event.identifier === 'api';
        },
      },
    );
    brama.failure('api', { reason: 'boom' });
    expect(got).toEqual(['failure:boom', 'opened:open']);
  });

  it('without `events`, every event; a handler typed for every event still fits any filter', () => {
    const brama = setup();
    const all: BramaEvent[] = [];
    brama.subscribe((event) => {
      expectTypeOf(event).toEqualTypeOf<BramaEvent>();
      all.push(event);
    });
    const wide = (event: BramaEvent) => all.push(event);
    brama.subscribe(wide, { events: ['success'] });
    const types: BramaEventType[] = ['success'];
    const filter: EventFilter = { events: types };
    brama.subscribe(wide, filter);
    brama.success('api');
    // Each event reaches every listener before the next event is delivered.
    expect(all.map((e) => e.type)).toEqual(['success', 'success', 'success', 'state_change']);
    // @ts-expect-error a handler for one type does not fit a filter of another
    brama.subscribe((e: BramaEventOf<'success'>) => e, { events: ['failure'] });
    // @ts-expect-error unknown event type
    expect(() => brama.subscribe(wide, { events: ['circuit_open'] })).toThrow(/events/);
  });

  it('recordEvents narrows its events and waitFor to the filtered types', async () => {
    const brama = setup();
    const recorder = recordEvents(brama, { events: ['state_change'] });
    brama.success('api');
    brama.failure('api');
    expectTypeOf(recorder.events).toEqualTypeOf<BramaEventOf<'state_change'>[]>();
    expect(recorder.events.map((e) => `${e.data.from}→${e.data.to}`)).toEqual([
      'unknown→closed',
      'closed→open',
    ]);
    const first = await recorder.waitFor('state_change');
    expectTypeOf(first).toEqualTypeOf<BramaEventOf<'state_change'>>();
    expect(first.data.to).toBe('closed');
    // @ts-expect-error this recorder never records failure events
    void recorder.waitFor('failure', { timeoutMs: 0 }).catch(() => undefined);
    recorder.stop();
  });
});

describe('event data and store types', () => {
  it("store_degraded's data carries a BramaError", () => {
    expectTypeOf<BramaEventOf<'store_degraded'>['data']>().toEqualTypeOf<StoreDegradedData>();
    expectTypeOf<StoreDegradedData['error']>().toEqualTypeOf<BramaError>();
    const data: StoreDegradedData = {
      error: new BramaError('BRAMA_STORE_UNAVAILABLE', 'Redis did not answer'),
    };
    expect(isBramaError(data.error, 'BRAMA_STORE_UNAVAILABLE')).toBe(true);
  });

  it('what a store implementer needs is exported', () => {
    expectTypeOf<Parameters<ConnectionStore['remove']>[1]>().toEqualTypeOf<RemovalCause>();
    expectTypeOf<RemovalCause>().toEqualTypeOf<'unregister' | 'cleanup'>();
    const causes: RemovalCause[] = ['unregister', 'cleanup'];
    expect(causes).toHaveLength(2);
  });
});
