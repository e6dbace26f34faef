import { describe, expect, it } from 'vitest';
import { OUTCOME_INDEX, type MeteredOutcome } from './core/call-meter.js';
import type { ConnectionRecord } from './core/record.js';
import { Brama, circuitBreaker } from './index.js';
import { INTERNALS } from './internals.js';
import type { Registry } from './registry.js';
import { ManualClock, setState } from './testing/index.js';

function setup(options: ConstructorParameters<typeof Brama>[0] = {}) {
  const clock = new ManualClock(1_000);
  const brama = new Brama({ clock, cleanupInterval: 0, maxAttempts: 100, ...options });
  return { clock, brama };
}

const registryOf = (brama: Brama): Registry => (brama as unknown as { r: Registry }).r;
const recordOf = (brama: Brama, id: string): ConnectionRecord =>
  registryOf(brama).store.get(id, null) as ConnectionRecord;

/** Counts per outcome, only the non-zero ones. */
function counts(brama: Brama, id: string): Partial<Record<MeteredOutcome, number>> {
  const meter = recordOf(brama, id).meter;
  const out: Partial<Record<MeteredOutcome, number>> = {};
  if (meter === null) return out;
  for (const [name, i] of Object.entries(OUTCOME_INDEX))
    if (meter.calls[i] !== 0) out[name as MeteredOutcome] = meter.calls[i];
  return out;
}

const pending = () => new Promise<never>(() => undefined);
const boom = () => Promise.reject(new Error('boom'));

describe('metering: nothing without an exporter', () => {
  it('counts and allocates nothing per record while no exporter is attached', async () => {
    const { brama } = setup({ maxAttempts: 1 });
    brama.register('api');
    brama.success('api');
    await brama.run('api', () => 1);
    await brama.run('api', boom).catch(() => undefined);
    expect(brama.isAvailable('api')).toBe(false);
    await brama.run('api', () => 1).catch(() => undefined);
    expect(recordOf(brama, 'api').meter).toBeNull();
    expect(registryOf(brama).metering).toBeNull();
    const hook = brama[INTERNALS]().attachMeter(null);
    expect(registryOf(brama).metering).not.toBeNull();
    hook.detach();
    hook.detach();
    expect(registryOf(brama).metering).toBeNull();
  });
});

describe('metering: each call counts once', () => {
  it('reports and isAvailable refusals', () => {
    const { brama } = setup({ maxAttempts: 2 });
    brama[INTERNALS]().attachMeter(null);
    brama.register('api');
    brama.success('api');
    brama.failure('api');
    brama.failure('api');
    expect(brama.isAvailable('api')).toBe(false);
    expect(brama.wouldAdmit('api')).toBe(false); // a look, not a call
    expect(counts(brama, 'api')).toEqual({ success: 1, failure: 2, rejected: 1 });
  });

  it('wrapped calls: success, failure, ignored (classify, isFailure, a throwing classifier)', async () => {
    const { brama } = setup();
    brama[INTERNALS]().attachMeter(null);
    await brama.run('api', () => 1);
    await brama.run('api', boom).catch(() => undefined);
    await brama.run('api', () => 2, { classify: () => 'ignore' });
    await brama.run('api', boom, { isFailure: () => false }).catch(() => undefined);
    const classify = () => {
      throw new Error('bad classifier');
    };
    await brama.run('api', () => 3, { classify }).catch(() => undefined);
    await brama.run('api', () => 4, { classify: () => ({ failure: 'bad value' }) });
    expect(counts(brama, 'api')).toEqual({ success: 1, failure: 2, ignored: 3 });
  });

  it('the steady-state fast paths of run and wrap count (and time) every call', async () => {
    const { brama, clock } = setup();
    brama[INTERNALS]().attachMeter(null);
    const fn = brama.wrap('api', (ms: number) => {
      clock.advance(ms);
      return Promise.resolve(ms);
    });
    for (let i = 0; i < 3; i++) await fn(4);
    for (let i = 0; i < 3; i++) await brama.run('api', () => 1);
    expect(counts(brama, 'api')).toEqual({ success: 6 });
    const histogram = recordOf(brama, 'api').meter?.durations[OUTCOME_INDEX.success];
    expect(histogram?.count).toBe(6);
    expect(histogram?.sumMs).toBe(12);
  });

  it('a timed-out call counts as timeout, not failure, also when it settles later', async () => {
    const { brama, clock } = setup();
    brama[INTERNALS]().attachMeter(null);
    let settle: (value: number) => void = () => undefined;
    const late = new Promise<number>((resolve) => (settle = resolve));
    const call = brama.run('api', () => late, { timeout: 500 });
    clock.advance(500);
    await expect(call).rejects.toMatchObject({ code: 'BRAMA_TIMEOUT' });
    settle(1);
    await late;
    const fallback = brama.run('api', pending, {
      timeout: 200,
      fallback: () => 'fallback',
      fallbackOn: 'both',
    });
    clock.advance(200);
    await expect(fallback).resolves.toBe('fallback');
    expect(counts(brama, 'api')).toEqual({ timeout: 2 });
    expect(brama.status('api').totalFailures).toBe(2); // the circuit still counts failures
    const histogram = recordOf(brama, 'api').meter?.durations[OUTCOME_INDEX.timeout];
    expect(histogram?.sumMs).toBe(700);
  });

  it('refused wrapped calls count as rejected, with or without fallback, from run, wrap and the decorator', async () => {
    const { brama } = setup();
    brama[INTERNALS]().attachMeter(null);
    brama.register('api');
    setState(brama, 'api', 'open');
    await brama.run('api', () => 1).catch(() => undefined);
    await expect(brama.run('api', () => 1, { fallback: () => 0 })).resolves.toBe(0);
    await brama
      .wrap('api', () => 1)()
      .catch(() => undefined);
    // The decorator in its legacy form, applied by hand (vitest does not compile decorators here).
    const get = { value: () => Promise.resolve(1), writable: true, configurable: true };
    const decorated = circuitBreaker(brama, { identifier: 'api' })(
      {},
      'get',
      get,
    ) as PropertyDescriptor;
    await (decorated.value as () => Promise<number>)().catch(() => undefined);
    expect(counts(brama, 'api')).toEqual({ rejected: 4 });
    expect(recordOf(brama, 'api').meter?.durations).toEqual([null, null, null, null, null]);
  });

  it('an abort through the caller’s signal is not metered at all', async () => {
    const { brama } = setup();
    brama[INTERNALS]().attachMeter(null);
    brama.register('api');
    const controller = new AbortController();
    const call = brama.run('api', pending, { signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(call).rejects.toThrow('user left');
    await expect(brama.run('api', () => 1, { signal: controller.signal })).rejects.toThrow();
    expect(counts(brama, 'api')).toEqual({});
  });

  it('a late result of an unregistered connection counts nothing', async () => {
    const { brama } = setup();
    brama[INTERNALS]().attachMeter(null);
    let settle: (value: number) => void = () => undefined;
    const call = brama.run('api', () => new Promise<number>((resolve) => (settle = resolve)));
    const record = recordOf(brama, 'api');
    brama.unregister('api');
    settle(1);
    await call;
    expect(record.meter).toBeNull();
  });
});

describe('metering: transitions', () => {
  it('counts changes another process made (origin remote) as well as local ones', () => {
    const { brama } = setup({ maxAttempts: 1 });
    brama[INTERNALS]().attachMeter(null);
    brama.register('api');
    brama.failure('api'); // unknown → open, here
    const record = recordOf(brama, 'api');
    // What a shared store reports when another process closed the circuit.
    record.circuit = { ...record.circuit, state: 'closed', openUntil: null };
    registryOf(brama).committed(record, 'sync', 'open', null, 'remote');
    registryOf(brama).committed(record, 'success', 'closed', null, 'local'); // no change
    expect([...(record.meter?.transitions ?? [])].filter((n) => n !== 0)).toEqual([1, 1]);
  });
});

describe('metering: durations', () => {
  it('buckets by the registry clock, bounds inclusive', async () => {
    const { brama, clock } = setup();
    brama[INTERNALS]().attachMeter(null);
    for (const ms of [0, 5, 6, 10, 30, 12_000]) {
      await brama.run('api', () => {
        clock.advance(ms);
        return ms;
      });
    }
    const h = recordOf(brama, 'api').meter?.durations[OUTCOME_INDEX.success];
    //           5  10  25  50 100 250 500 1s 2.5s 5s 10s +Inf
    expect([...(h?.buckets ?? [])]).toEqual([2, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(h?.count).toBe(6);
    expect(h?.sumMs).toBe(12_051);
  });

  it('tells duration listeners in seconds; a throwing listener never reaches the call', async () => {
    const { brama, clock } = setup();
    const heard: [string, MeteredOutcome, number][] = [];
    const internals = brama[INTERNALS]();
    const hook = internals.attachMeter((record, outcome, seconds) => {
      heard.push([record.identifier, outcome, seconds]);
    });
    internals.attachMeter(() => {
      throw new Error('exporter bug');
    });
    await brama.run('api', () => {
      clock.advance(250);
      return 1;
    });
    await brama.run('api', boom).catch(() => undefined);
    brama.success('api'); // a report has no duration
    expect(heard).toEqual([
      ['api', 'success', 0.25],
      ['api', 'failure', 0],
    ]);
    hook.detach();
    await brama.run('api', () => 1);
    expect(heard).toHaveLength(2);
  });
});
