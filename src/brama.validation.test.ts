/**
 * Bad input on every public method (§2, §3, §6): each call must throw a `BramaError` with the
 * documented code and a message naming what was wrong and the value received, and must leave
 * the registry exactly as it was (no state change, no event, other connections unaffected).
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  Brama,
  BramaError,
  isBramaError,
  MemoryStore,
  type BramaErrorCode,
  type BramaEvent,
  type ConnectionStatus,
} from './index.js';
import {
  addFailures,
  expectState,
  ManualClock,
  recordEvents,
  setState,
  simulateRecovery,
  StateAssertionError,
} from './testing/index.js';

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

const START = 1_000_000;
const noop = (): void => {};

/** A registry with three connections in different states, and a record of its events. */
interface Fixture {
  readonly brama: Brama;
  readonly clock: ManualClock;
  readonly events: BramaEvent[];
  readonly before: ConnectionStatus[];
}

function fixture(): Fixture {
  const clock = new ManualClock(START);
  const brama = new Brama({ clock, cleanupInterval: 0 });
  brama.register('db', { metadata: { team: 'core' } });
  brama.failure('db', { reason: 'boom' });
  brama.failure('db');
  brama.register('api', { scope: 'payments', maxAttempts: 2 });
  brama.success('api', { scope: 'payments' });
  brama.register('cache', { expiry: 5_000 });
  brama.openCircuit('cache', { reason: 'maintenance' });
  const events: BramaEvent[] = [];
  brama.subscribe((event) => events.push(event));
  return { brama, clock, events, before: brama.list() };
}

/** The registry is as `fixture()` left it, and its connections still behave normally. */
function expectUnchanged(f: Fixture): void {
  expect(f.events, 'bad input emitted events').toEqual([]);
  expect(f.clock.now()).toBe(START);
  expect(f.brama.list()).toEqual(f.before);
  // Registry settings intact: with no time elapsed, a sweep removes nothing.
  expect(f.brama.cleanup()).toBe(0);
  expect(f.brama.list()).toEqual(f.before);
  // Existing connections keep working.
  f.brama.failure('db');
  expect(f.brama.status('db').failureCount).toBe(3);
  expect(f.brama.isAvailable('api', { scope: 'payments' })).toBe(true);
  expect(f.brama.isAvailable('cache')).toBe(false);
  f.clock.advance(5_000);
  expect(f.brama.isAvailable('cache')).toBe(true);
  expect(f.brama.isAvailable('cache')).toBe(false);
  f.brama.success('cache');
  expect(f.brama.status('cache').state).toBe('closed');
}

const NOTHING_THROWN = Symbol('nothing thrown');

/** Runs `fn` (sync or async) and returns what it threw or rejected with. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return NOTHING_THROWN;
}

function shown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Matches `text` as a whole token (so `0` does not match inside `60000`). */
function token(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.])${escaped}(?!\\w|\\.\\d)`);
}

type Expected = readonly (string | RegExp)[];

async function expectBramaError(fn: () => unknown, code: BramaErrorCode, expected: Expected) {
  const error = await caught(fn);
  if (error === NOTHING_THROWN) expect.fail(`expected ${code}, but nothing was thrown`);
  if (!isBramaError(error)) expect.fail(`expected a BramaError ${code}, got ${shown(error)}`);
  expect(error).toBeInstanceOf(BramaError);
  expect(error.name).toBe('BramaError');
  expect(error.code, error.message).toBe(code);
  for (const part of expected) {
    expect(error.message).toMatch(typeof part === 'string' ? token(part) : part);
  }
}

interface Case {
  readonly name: string;
  readonly call: (f: Fixture) => unknown;
  readonly code: BramaErrorCode;
  readonly expected: Expected;
}

function runCases(cases: readonly Case[]): void {
  it.each(cases)('$name', async ({ call, code, expected }) => {
    const f = fixture();
    await expectBramaError(() => call(f), code, expected);
    expectUnchanged(f);
  });
}

/** A bad value and how an error message must render it. */
interface Bad {
  readonly value: unknown;
  readonly shown: string;
}
const bad = (value: unknown, text: string): Bad => ({ value, shown: text });

const ARG = 'BRAMA_INVALID_ARGUMENT' as const;
const OPT = 'BRAMA_INVALID_OPTION' as const;

// ---------------------------------------------------------------------------------------------
// Identifier, scope and options-object arguments
// ---------------------------------------------------------------------------------------------

const BAD_IDENTIFIERS: readonly Bad[] = [
  bad(42, '42'),
  bad(undefined, 'undefined'),
  bad(null, 'null'),
  bad({ id: 'db' }, '[object Object]'),
  bad('', '""'),
];

/** [method, call with the identifier, whether `undefined` means "absent" there]. */
const IDENTIFIER_TAKERS: readonly [string, (b: Brama, id: never) => unknown, boolean?][] = [
  ['register', (b, id) => b.register(id)],
  ['unregister', (b, id) => b.unregister(id)],
  ['isAvailable', (b, id) => b.isAvailable(id)],
  ['success', (b, id) => b.success(id)],
  ['failure', (b, id) => b.failure(id, { reason: 'x' })],
  ['status', (b, id) => b.status(id)],
  ['openCircuit', (b, id) => b.openCircuit(id)],
  ['closeCircuit', (b, id) => b.closeCircuit(id)],
  ['resetCircuit', (b, id) => b.resetCircuit(id)],
  ['configure(identifier, options)', (b, id) => b.configure(id, { maxAttempts: 3 })],
  ['subscribe filter.identifier', (b, id) => b.subscribe(noop, { identifier: id }), true],
  ['setState', (b, id) => setState(b, id, 'open')],
  ['addFailures', (b, id) => addFailures(b, id, 1)],
  ['simulateRecovery', (b, id) => simulateRecovery(b, id)],
  ['expectState', (b, id) => expectState(b, id, 'closed')],
  ['recordEvents filter.identifier', (b, id) => recordEvents(b, { identifier: id }), true],
];

describe('bad identifier → BRAMA_INVALID_ARGUMENT', () => {
  runCases(
    IDENTIFIER_TAKERS.flatMap(([method, call, undefinedIsAbsent]) =>
      BAD_IDENTIFIERS.filter((v) => !(undefinedIsAbsent && v.value === undefined)).map((v) => ({
        name: `${method}(${v.shown})`,
        call: (f: Fixture) => call(f.brama, v.value as never),
        code: ARG,
        expected: ['identifier', v.shown],
      })),
    ),
  );
});

const BAD_SCOPES: readonly Bad[] = [
  bad('', '""'),
  bad(7, '7'),
  bad({ name: 'payments' }, '[object Object]'),
  bad(true, 'true'),
];

const SCOPE_TAKERS: readonly [string, (b: Brama, scope: never) => unknown][] = [
  ['register', (b, scope) => b.register('new', { scope })],
  ['unregister', (b, scope) => b.unregister('db', { scope })],
  ['isAvailable', (b, scope) => b.isAvailable('db', { scope })],
  ['success', (b, scope) => b.success('db', { scope })],
  ['failure', (b, scope) => b.failure('db', { scope })],
  ['status', (b, scope) => b.status('db', { scope })],
  ['list', (b, scope) => b.list({ scope })],
  ['openCircuit', (b, scope) => b.openCircuit('db', { scope })],
  ['closeCircuit', (b, scope) => b.closeCircuit('cache', { scope })],
  ['resetCircuit', (b, scope) => b.resetCircuit('cache', { scope })],
  ['configure(identifier, options)', (b, scope) => b.configure('db', { scope, maxAttempts: 3 })],
  ['subscribe filter', (b, scope) => b.subscribe(noop, { scope })],
  ['setState', (b, scope) => setState(b, 'db', 'open', { scope })],
  ['addFailures', (b, scope) => addFailures(b, 'db', 1, { scope })],
  ['simulateRecovery', (b, scope) => simulateRecovery(b, 'cache', { scope })],
  ['expectState', (b, scope) => expectState(b, 'db', 'closed', { scope })],
  ['recordEvents filter', (b, scope) => recordEvents(b, { scope })],
];

describe('bad scope → BRAMA_INVALID_ARGUMENT', () => {
  runCases(
    SCOPE_TAKERS.flatMap(([method, call]) =>
      BAD_SCOPES.map((v) => ({
        name: `${method}({ scope: ${v.shown} })`,
        call: (f: Fixture) => call(f.brama, v.value as never),
        code: ARG,
        expected: ['scope', v.shown],
      })),
    ),
  );
});

const NON_OBJECTS: readonly Bad[] = [
  bad(5, '5'),
  bad('payments', '"payments"'),
  bad(true, 'true'),
  bad(['payments'], 'array(1)'),
];

const OPTIONS_TAKERS: readonly [string, (b: Brama, opts: never) => unknown][] = [
  ['register', (b, o) => b.register('new', o)],
  ['unregister', (b, o) => b.unregister('db', o)],
  ['isAvailable', (b, o) => b.isAvailable('db', o)],
  ['success', (b, o) => b.success('db', o)],
  ['failure', (b, o) => b.failure('db', o)],
  ['status', (b, o) => b.status('db', o)],
  ['list', (b, o) => b.list(o)],
  ['openCircuit', (b, o) => b.openCircuit('db', o)],
  ['closeCircuit', (b, o) => b.closeCircuit('cache', o)],
  ['resetCircuit', (b, o) => b.resetCircuit('cache', o)],
  ['configure(identifier, options)', (b, o) => b.configure('db', o)],
  ['subscribe filter', (b, o) => b.subscribe(noop, o)],
  ['setState', (b, o) => setState(b, 'db', 'open', o)],
  ['addFailures', (b, o) => addFailures(b, 'db', 1, o)],
  ['simulateRecovery', (b, o) => simulateRecovery(b, 'cache', o)],
  ['expectState', (b, o) => expectState(b, 'db', 'closed', o)],
  ['recordEvents filter', (b, o) => recordEvents(b, o)],
  ['recordEvents().waitFor', (b, o) => recordEvents(b).waitFor('circuit_half_opened', o)],
];

describe('options that are not objects → BRAMA_INVALID_ARGUMENT', () => {
  runCases([
    ...OPTIONS_TAKERS.flatMap(([method, call]) =>
      NON_OBJECTS.map((v) => ({
        name: `${method} with options ${v.shown}`,
        call: (f: Fixture) => call(f.brama, v.value as never),
        code: ARG,
        expected: [v.shown],
      })),
    ),
    // configure(string) is the per-connection overload, so only non-strings here.
    ...[bad(5, '5'), bad(true, 'true'), bad(['x'], 'array(1)'), bad(undefined, 'undefined')].map(
      (v) => ({
        name: `configure(${v.shown})`,
        call: (f: Fixture) => f.brama.configure(v.value as never),
        code: ARG,
        expected: [v.shown],
      }),
    ),
    {
      name: 'configure(options, extra argument)',
      call: (f) => f.brama.configure({ maxAttempts: 3 } as never, { maxAttempts: 4 } as never),
      code: ARG,
      expected: ['[object Object]'],
    },
    ...[bad(undefined, 'undefined'), bad(null, 'null')].map((v) => ({
      name: `configure("db", ${v.shown}): per-connection options are required`,
      call: (f: Fixture) => f.brama.configure('db', v.value as never),
      code: ARG,
      expected: [v.shown],
    })),
    ...[
      bad(5, '5'),
      bad(undefined, 'undefined'),
      bad(null, 'null'),
      bad({}, '[object Object]'),
    ].map((v) => ({
      name: `subscribe(handler ${v.shown})`,
      call: (f: Fixture) => f.brama.subscribe(v.value as never),
      code: ARG,
      expected: ['handler', v.shown],
    })),
  ]);

  it.each(NON_OBJECTS)('new Brama($shown)', async ({ value, shown: text }) => {
    await expectBramaError(() => new Brama(value as never), ARG, [text]);
  });

  it('null options mean "no options" (as undefined does) in every method that takes them', async () => {
    const f = fixture();
    const { brama } = f;
    expect(brama.register('new', null as never).state).toBe('unknown');
    expect(brama.isAvailable('new', null as never)).toBe(true);
    brama.success('new', null as never);
    brama.failure('new', null as never);
    expect(brama.status('new', null as never).totalFailures).toBe(1);
    expect(brama.list(null as never)).toHaveLength(4);
    brama.openCircuit('new', null as never);
    brama.closeCircuit('new', null as never);
    brama.resetCircuit('new', null as never);
    brama.subscribe(noop, null as never).unsubscribe();
    setState(brama, 'new', 'open', null as never);
    expectState(brama, 'new', 'open', null as never);
    brama.closeCircuit('new');
    addFailures(brama, 'new', 1, null as never);
    const recorder = recordEvents(brama, null as never);
    brama.success('new');
    await expect(recorder.waitFor('success', null as never)).resolves.toMatchObject({
      identifier: 'new',
    });
    expect(brama.unregister('new', null as never)).toBe(true);
  });

  it('simulateRecovery(brama, id, null) recovers like simulateRecovery(brama, id)', () => {
    const { brama } = fixture();
    simulateRecovery(brama, 'cache', null as never);
    expectState(brama, 'cache', 'closed');
  });
});

// ---------------------------------------------------------------------------------------------
// Option values and unknown option keys
// ---------------------------------------------------------------------------------------------

const BAD_COUNTS: readonly Bad[] = [
  bad(NaN, 'NaN'),
  bad(-1, '-1'),
  bad(0, '0'),
  bad(Infinity, 'Infinity'),
  bad(1.5, '1.5'),
  bad(2 ** 53, '9007199254740992'),
  bad('3', '"3"'),
  bad(null, 'null'),
  bad(true, 'true'),
];
const BAD_MS: readonly Bad[] = [
  bad(NaN, 'NaN'),
  bad(-1, '-1'),
  bad(0, '0'),
  bad(Infinity, 'Infinity'),
  bad(-Infinity, '-Infinity'),
  bad('1000', '"1000"'),
  bad(null, 'null'),
  bad({}, '[object Object]'),
];

/** Bad values of every per-circuit option. */
const BAD_CIRCUIT_OPTIONS: Readonly<Record<string, readonly Bad[]>> = {
  maxAttempts: BAD_COUNTS,
  expiry: BAD_MS,
  initialExpiry: BAD_MS,
  maxExpiry: BAD_MS,
  backoffFactor: [
    bad(NaN, 'NaN'),
    bad(-1, '-1'),
    bad(0, '0'),
    bad(0.5, '0.5'),
    bad(Infinity, 'Infinity'),
    bad('2', '"2"'),
    bad(null, 'null'),
  ],
  halfOpenProbes: BAD_COUNTS,
  probeTimeout: BAD_MS,
  expiryStrategy: [
    bad('linear', '"linear"'),
    bad('Progressive', '"Progressive"'),
    bad('', '""'),
    bad(1, '1'),
    bad(null, 'null'),
    bad(true, 'true'),
  ],
};

/** Bad values of the registry-wide options (constructor and global configure only). */
const BAD_REGISTRY_OPTIONS: Readonly<Record<string, readonly Bad[]>> = {
  cleanupInterval: [
    bad(NaN, 'NaN'),
    bad(-1, '-1'),
    bad(Infinity, 'Infinity'),
    bad(2 ** 31, '2147483648'),
    bad(1e12, '1000000000000'),
    bad('60000', '"60000"'),
    bad(null, 'null'),
  ],
  inactiveThreshold: [
    bad(NaN, 'NaN'),
    bad(-1, '-1'),
    bad(0, '0'),
    bad(Infinity, 'Infinity'),
    bad('1000', '"1000"'),
    bad(null, 'null'),
  ],
};

const CIRCUIT_CONTEXTS: readonly [
  string,
  (f: Fixture, opts: Record<string, unknown>) => unknown,
][] = [
  ['new Brama', (_f, o) => new Brama(o)],
  ['configure', (f, o) => f.brama.configure(o)],
  ['register', (f, o) => f.brama.register('new', o)],
  ['configure("db")', (f, o) => f.brama.configure('db', o)],
  ['configure("api", scoped)', (f, o) => f.brama.configure('api', { scope: 'payments', ...o })],
];
const REGISTRY_CONTEXTS = CIRCUIT_CONTEXTS.slice(0, 2);

function optionCases(
  table: Readonly<Record<string, readonly Bad[]>>,
  contexts: typeof CIRCUIT_CONTEXTS,
): Case[] {
  return contexts.flatMap(([context, call]) =>
    Object.entries(table).flatMap(([key, values]) =>
      values.map((v) => ({
        name: `${context}({ ${key}: ${v.shown} })`,
        call: (f: Fixture) => call(f, { [key]: v.value }),
        code: OPT,
        expected: [key, v.shown],
      })),
    ),
  );
}

describe('bad option values → BRAMA_INVALID_OPTION', () => {
  runCases([
    ...optionCases(BAD_CIRCUIT_OPTIONS, CIRCUIT_CONTEXTS),
    ...optionCases(BAD_REGISTRY_OPTIONS, REGISTRY_CONTEXTS),
    ...BAD_MS.map((v) => ({
      name: `openCircuit({ expiry: ${v.shown} })`,
      call: (f: Fixture) => f.brama.openCircuit('db', { expiry: v.value as never }),
      code: OPT,
      expected: ['expiry', v.shown],
    })),
    ...CIRCUIT_CONTEXTS.map(([context, call]) => ({
      name: `${context}: maxExpiry below initialExpiry`,
      call: (f: Fixture) => call(f, { initialExpiry: 2_000, maxExpiry: 1_000 }),
      code: OPT,
      expected: ['maxExpiry', '1000'],
    })),
    {
      name: 'configure("db"): maxExpiry below the connection’s own initialExpiry',
      call: (f) => {
        f.brama.configure('api', { scope: 'payments', initialExpiry: 2_000 }); // valid
        f.events.length = 0;
        f.before.splice(0, f.before.length, ...f.brama.list());
        f.brama.configure('api', { scope: 'payments', maxExpiry: 1_000 });
      },
      code: OPT,
      expected: ['maxExpiry', '1000'],
    },
    ...[bad(5, '5'), bad('core', '"core"'), bad(null, 'null'), bad(['a'], 'array(1)')].flatMap(
      (v) => [
        {
          name: `register({ metadata: ${v.shown} })`,
          call: (f: Fixture) => f.brama.register('new', { metadata: v.value as never }),
          code: OPT,
          expected: ['metadata', v.shown],
        },
        {
          name: `configure("db", { metadata: ${v.shown} })`,
          call: (f: Fixture) => f.brama.configure('db', { metadata: v.value as never }),
          code: OPT,
          expected: ['metadata', v.shown],
        },
      ],
    ),
    ...[
      bad(5, '5'),
      bad({}, '[object Object]'),
      bad({ now: 5 }, '[object Object]'),
      bad(Date, 'function Date'),
    ].map((v) => ({
      name: `new Brama({ clock: ${v.shown} })`,
      call: () => new Brama({ clock: v.value as never }),
      code: OPT,
      expected: ['clock', v.shown],
    })),
    {
      name: 'new Brama({ store: {} })',
      call: () => new Brama({ store: {} as never }),
      code: OPT,
      expected: ['store', '[object Object]'],
    },
    {
      name: 'new Brama({ onListenerError: "warn" })',
      call: () => new Brama({ onListenerError: 'warn' as never }),
      code: OPT,
      expected: ['onListenerError', '"warn"'],
    },
    {
      name: 'configure({ onListenerError: 5 })',
      call: (f) => f.brama.configure({ onListenerError: 5 as never }),
      code: OPT,
      expected: ['onListenerError', '5'],
    },
    {
      name: 'configure({ clock }): the clock is fixed at construction',
      call: (f) => f.brama.configure({ clock: new ManualClock(0) } as never),
      code: OPT,
      expected: ['clock'],
    },
    {
      name: 'configure({ store }): the store is fixed at construction',
      call: (f) => f.brama.configure({ store: new MemoryStore() } as never),
      code: OPT,
      expected: ['store'],
    },
    {
      name: 'configure: one bad value among good ones applies nothing',
      call: (f) => f.brama.configure({ maxAttempts: 1, expiry: 10, inactiveThreshold: NaN }),
      code: OPT,
      expected: ['inactiveThreshold', 'NaN'],
    },
    {
      name: 'configure("db"): one bad value among good ones applies nothing',
      call: (f) => f.brama.configure('db', { maxAttempts: 1, metadata: { a: 1 }, expiry: -1 }),
      code: OPT,
      expected: ['expiry', '-1'],
    },
  ]);
});

/** [name, call with an object holding `key`, key, value, suggestion or null]. */
const TYPOS: readonly [string, (f: Fixture, opts: never) => unknown, string, unknown, string?][] = [
  ['new Brama', (_f, o) => new Brama(o), 'maxAttempst', 3, 'maxAttempts'],
  ['new Brama', (_f, o) => new Brama(o), 'cleanupIntervall', 0, 'cleanupInterval'],
  ['new Brama', (_f, o) => new Brama(o), 'inactiveTreshold', 5, 'inactiveThreshold'],
  ['new Brama', (_f, o) => new Brama(o), 'expiryStrategey', 'fixed', 'expiryStrategy'],
  ['new Brama', (_f, o) => new Brama(o), 'metadata', {}],
  ['new Brama', (_f, o) => new Brama(o), 'scope', 'payments'],
  ['configure', (f, o) => f.brama.configure(o), 'maxAttempst', 3, 'maxAttempts'],
  ['configure', (f, o) => f.brama.configure(o), 'halfOpenProbe', 2, 'halfOpenProbes'],
  ['configure', (f, o) => f.brama.configure(o), 'maxAttempst', undefined, 'maxAttempts'],
  ['register', (f, o) => f.brama.register('new', o), 'maxAttempst', 3, 'maxAttempts'],
  ['register', (f, o) => f.brama.register('new', o), 'scpoe', 'payments', 'scope'],
  ['register', (f, o) => f.brama.register('new', o), 'metdata', {}, 'metadata'],
  ['register', (f, o) => f.brama.register('new', o), 'cleanupInterval', 0],
  ['register', (f, o) => f.brama.register('new', o), 'fooBar', 1],
  ['configure("db")', (f, o) => f.brama.configure('db', o), 'maxAttempst', 3, 'maxAttempts'],
  ['configure("db")', (f, o) => f.brama.configure('db', o), 'inactiveThreshold', 5],
  ['unregister', (f, o) => f.brama.unregister('db', o), 'scpoe', 'x', 'scope'],
  ['isAvailable', (f, o) => f.brama.isAvailable('db', o), 'scpoe', 'x', 'scope'],
  ['success', (f, o) => f.brama.success('db', o), 'scpoe', 'x', 'scope'],
  ['success', (f, o) => f.brama.success('db', o), 'reason', 'x'],
  ['failure', (f, o) => f.brama.failure('db', o), 'reasn', 'x', 'reason'],
  ['status', (f, o) => f.brama.status('db', o), 'scpoe', 'x', 'scope'],
  ['list', (f, o) => f.brama.list(o), 'scpoe', 'x', 'scope'],
  ['list', (f, o) => f.brama.list(o), 'identifier', 'db'],
  ['openCircuit', (f, o) => f.brama.openCircuit('db', o), 'expirey', 5, 'expiry'],
  ['openCircuit', (f, o) => f.brama.openCircuit('db', o), 'maxAttempts', 3],
  ['closeCircuit', (f, o) => f.brama.closeCircuit('cache', o), 'reson', 'x', 'reason'],
  ['closeCircuit', (f, o) => f.brama.closeCircuit('cache', o), 'expiry', 5],
  ['resetCircuit', (f, o) => f.brama.resetCircuit('cache', o), 'scpoe', 'x', 'scope'],
  ['subscribe', (f, o) => f.brama.subscribe(noop, o), 'event', ['success'], 'events'],
  ['subscribe', (f, o) => f.brama.subscribe(noop, o), 'identifer', 'db', 'identifier'],
  ['subscribe', (f, o) => f.brama.subscribe(noop, o), 'filters', noop, 'filter'],
  ['setState', (f, o) => setState(f.brama, 'db', 'open', o), 'scpoe', 'x', 'scope'],
  ['addFailures', (f, o) => addFailures(f.brama, 'db', 1, o), 'reasn', 'x', 'reason'],
  ['simulateRecovery', (f, o) => simulateRecovery(f.brama, 'cache', o), 'scpoe', 'x', 'scope'],
  ['expectState', (f, o) => expectState(f.brama, 'db', 'closed', o), 'scpoe', 'x', 'scope'],
  ['recordEvents', (f, o) => recordEvents(f.brama, o), 'event', ['success'], 'events'],
  [
    'waitFor',
    (f, o) => recordEvents(f.brama).waitFor('circuit_half_opened', o),
    'timeout',
    10,
    'timeoutMs',
  ],
];

describe('unknown option keys → BRAMA_INVALID_OPTION, suggesting the closest key', () => {
  runCases(
    TYPOS.map(([method, call, key, value, suggestion]) => ({
      name: `${method}({ ${key} })${suggestion ? ` suggests ${suggestion}` : ''}`,
      call: (f: Fixture) => call(f, { [key]: value } as never),
      code: OPT,
      expected: [`"${key}"`, ...(suggestion ? [new RegExp(`did you mean "${suggestion}"`)] : [])],
    })),
  );
});

// ---------------------------------------------------------------------------------------------
// Reasons, event filters, testing kit arguments
// ---------------------------------------------------------------------------------------------

const BAD_REASONS: readonly Bad[] = [
  bad(5, '5'),
  bad({ message: 'boom' }, '[object Object]'),
  bad(true, 'true'),
  bad(['boom'], 'array(1)'),
];
const REASON_TAKERS: readonly [string, (b: Brama, reason: never) => unknown][] = [
  ['failure', (b, reason) => b.failure('db', { reason })],
  ['openCircuit', (b, reason) => b.openCircuit('db', { reason })],
  ['closeCircuit', (b, reason) => b.closeCircuit('cache', { reason })],
  ['resetCircuit', (b, reason) => b.resetCircuit('cache', { reason })],
  ['addFailures', (b, reason) => addFailures(b, 'db', 2, { reason })],
];

describe('bad reason → BRAMA_INVALID_ARGUMENT', () => {
  runCases(
    REASON_TAKERS.flatMap(([method, call]) =>
      BAD_REASONS.map((v) => ({
        name: `${method}({ reason: ${v.shown} })`,
        call: (f: Fixture) => call(f.brama, v.value as never),
        code: ARG,
        expected: ['reason', v.shown],
      })),
    ),
  );
});

const FILTER_TAKERS: readonly [string, (b: Brama, filter: never) => unknown][] = [
  ['subscribe', (b, filter) => b.subscribe(noop, filter)],
  ['recordEvents', (b, filter) => recordEvents(b, filter)],
];
const BAD_FILTERS: readonly [string, Record<string, unknown>, BramaErrorCode, Expected][] = [
  ['events not an array', { events: 'success' }, OPT, ['events', '"success"']],
  ['events null', { events: null }, OPT, ['events', 'null']],
  ['unknown event type', { events: ['success', 'nope'] }, OPT, ['events', '"nope"']],
  ['event type not a string', { events: [5] }, OPT, ['events', '5']],
  ['filter not a function', { filter: 'yes' }, OPT, ['filter', '"yes"']],
  ['filter true', { filter: true }, OPT, ['filter', 'true']],
  ['identifier null', { identifier: null }, ARG, ['identifier', 'null']],
];

describe('bad event filter', () => {
  runCases(
    FILTER_TAKERS.flatMap(([method, call]) =>
      BAD_FILTERS.map(([what, filter, code, expected]) => ({
        name: `${method}: ${what} → ${code}`,
        call: (f: Fixture) => call(f.brama, filter as never),
        code,
        expected,
      })),
    ),
  );
});

const NOT_A_BRAMA: readonly [string, (b: Brama) => unknown][] = [
  ['setState', (b) => setState(b, 'db', 'open')],
  ['addFailures', (b) => addFailures(b, 'db', 1)],
  ['simulateRecovery', (b) => simulateRecovery(b, 'cache')],
  ['expectState', (b) => expectState(b, 'db', 'closed')],
  ['recordEvents', (b) => recordEvents(b)],
];

describe('testing kit arguments', () => {
  runCases([
    ...[bad(NaN, 'NaN'), bad(Infinity, 'Infinity'), bad('5', '"5"'), bad(null, 'null')].map(
      (v) => ({
        name: `new ManualClock(${v.shown})`,
        call: () => new ManualClock(v.value as never),
        code: ARG,
        expected: [v.shown],
      }),
    ),
    ...[bad(-1, '-1'), bad(NaN, 'NaN'), bad(Infinity, 'Infinity'), bad('5', '"5"')].map((v) => ({
      name: `ManualClock.advance(${v.shown})`,
      call: (f: Fixture) => f.clock.advance(v.value as never),
      code: ARG,
      expected: ['ms', v.shown],
    })),
    ...[
      bad(NaN, 'NaN'),
      bad(Infinity, 'Infinity'),
      bad('5', '"5"'),
      bad(undefined, 'undefined'),
    ].map((v) => ({
      name: `ManualClock.set(${v.shown})`,
      call: (f: Fixture) => f.clock.set(v.value as never),
      code: ARG,
      expected: ['ms', v.shown],
    })),
    ...[
      bad('unknown', '"unknown"'),
      bad('opened', '"opened"'),
      bad(5, '5'),
      bad(undefined, 'undefined'),
    ].map((v) => ({
      name: `setState(state ${v.shown})`,
      call: (f: Fixture) => setState(f.brama, 'db', v.value as never),
      code: ARG,
      expected: ['state', v.shown],
    })),
    ...[bad('opened', '"opened"'), bad(5, '5'), bad(null, 'null')].map((v) => ({
      name: `expectState(state ${v.shown})`,
      call: (f: Fixture) => expectState(f.brama, 'db', v.value as never),
      code: ARG,
      expected: ['state', v.shown],
    })),
    ...[
      bad(-1, '-1'),
      bad(1.5, '1.5'),
      bad(NaN, 'NaN'),
      bad(Infinity, 'Infinity'),
      bad('3', '"3"'),
      bad(undefined, 'undefined'),
    ].map((v) => ({
      name: `addFailures(count ${v.shown})`,
      call: (f: Fixture) => addFailures(f.brama, 'db', v.value as never),
      code: ARG,
      expected: ['count', v.shown],
    })),
    ...[bad('nope', '"nope"'), bad(5, '5'), bad(undefined, 'undefined')].map((v) => ({
      name: `waitFor(type ${v.shown})`,
      call: (f: Fixture) => recordEvents(f.brama).waitFor(v.value as never),
      code: ARG,
      expected: [v.shown],
    })),
    ...[
      bad(-1, '-1'),
      bad(NaN, 'NaN'),
      bad(Infinity, 'Infinity'),
      bad('100', '"100"'),
      bad(2 ** 31, '2147483648'),
    ].map((v) => ({
      name: `waitFor({ timeoutMs: ${v.shown} })`,
      call: (f: Fixture) =>
        recordEvents(f.brama).waitFor('circuit_half_opened', { timeoutMs: v.value as never }),
      code: OPT,
      expected: ['timeoutMs', v.shown],
    })),
    ...NOT_A_BRAMA.map(([helper, call]) => ({
      name: `${helper} with something that is not a Brama`,
      call: () => call({ register: noop } as never),
      code: ARG,
      expected: ['[object Object]'],
    })),
  ]);

  it('waitFor: bad timeoutMs does not wait for the timeout to report it', async () => {
    const recorder = recordEvents(fixture().brama);
    const started = performance.now();
    await caught(() => recorder.waitFor('circuit_half_opened', { timeoutMs: 2 ** 31 }));
    await caught(() => recorder.waitFor('circuit_half_opened', { timeoutMs: -1 }));
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('expectState: a mismatch is a readable StateAssertionError, not a BramaError', () => {
    const f = fixture();
    const error = (() => {
      try {
        expectState(f.brama, 'api', 'open', { scope: 'payments' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(StateAssertionError);
    expect(isBramaError(error)).toBe(false);
    expect((error as StateAssertionError).message).toMatch(/"api".*"payments".*open.*closed/);
    expectUnchanged(f);
  });
});

// ---------------------------------------------------------------------------------------------
// Not found, already registered, closed
// ---------------------------------------------------------------------------------------------

/** [method, call on a connection that is not registered]. */
const ON_MISSING: readonly [string, (b: Brama, id: string, scope: string | null) => unknown][] = [
  ['success', (b, id, scope) => b.success(id, { scope })],
  ['failure', (b, id, scope) => b.failure(id, { scope, reason: 'x' })],
  ['status', (b, id, scope) => b.status(id, { scope })],
  ['openCircuit', (b, id, scope) => b.openCircuit(id, { scope, expiry: 10 })],
  ['closeCircuit', (b, id, scope) => b.closeCircuit(id, { scope })],
  ['resetCircuit', (b, id, scope) => b.resetCircuit(id, { scope })],
  ['configure(identifier, options)', (b, id, scope) => b.configure(id, { scope, maxAttempts: 1 })],
  ['configure(identifier, {})', (b, id, scope) => b.configure(id, { scope })],
  ['setState', (b, id, scope) => setState(b, id, 'open', { scope })],
  ['addFailures', (b, id, scope) => addFailures(b, id, 1, { scope })],
  ['addFailures(0)', (b, id, scope) => addFailures(b, id, 0, { scope })],
  ['simulateRecovery', (b, id, scope) => simulateRecovery(b, id, { scope })],
  ['expectState', (b, id, scope) => expectState(b, id, 'unknown', { scope })],
];
/** Connections that do not exist in the fixture (same names as existing ones, other scope). */
const MISSING: readonly [string, string | null][] = [
  ['ghost', null],
  ['db', 'payments'],
  ['api', null],
];

describe('unregistered connections', () => {
  runCases(
    ON_MISSING.flatMap(([method, call]) =>
      MISSING.map(([id, scope]) => ({
        name: `${method}("${id}", scope ${scope}) → BRAMA_NOT_FOUND`,
        call: (f: Fixture) => call(f.brama, id, scope),
        code: 'BRAMA_NOT_FOUND' as const,
        expected: [`"${id}"`],
      })),
    ),
  );

  it.each(MISSING)(
    'isAvailable/unregister(%s, scope %s) → false, nothing registered',
    (id, scope) => {
      const f = fixture();
      expect(f.brama.isAvailable(id, { scope })).toBe(false);
      expect(f.brama.unregister(id, { scope })).toBe(false);
      expectUnchanged(f);
    },
  );
});

describe('already registered → BRAMA_ALREADY_REGISTERED', () => {
  runCases([
    {
      name: 'register("db")',
      call: (f) => f.brama.register('db'),
      code: 'BRAMA_ALREADY_REGISTERED',
      expected: ['"db"'],
    },
    {
      name: 'register("db") with other options does not reset or reconfigure it',
      call: (f) => f.brama.register('db', { maxAttempts: 1, metadata: { team: 'other' } }),
      code: 'BRAMA_ALREADY_REGISTERED',
      expected: ['"db"'],
    },
    {
      name: 'register("api", { scope: "payments" })',
      call: (f) => f.brama.register('api', { scope: 'payments' }),
      code: 'BRAMA_ALREADY_REGISTERED',
      expected: ['"api"', '"payments"'],
    },
  ]);

  it('the same identifier in another scope is another connection', () => {
    const f = fixture();
    expect(f.brama.register('db', { scope: 'payments' }).state).toBe('unknown');
    expect(f.brama.register('api').state).toBe('unknown');
    expect(f.brama.list()).toHaveLength(5);
  });
});

describe('after close() → BRAMA_CLOSED', () => {
  const calls: readonly [string, (b: Brama) => unknown][] = [
    ['register', (b) => b.register('new')],
    ['unregister', (b) => b.unregister('db')],
    ['isAvailable', (b) => b.isAvailable('db')],
    ['isAvailable (unregistered)', (b) => b.isAvailable('ghost')],
    ['success', (b) => b.success('db')],
    ['failure', (b) => b.failure('db', { reason: 'x' })],
    ['status', (b) => b.status('db')],
    ['list', (b) => b.list()],
    ['openCircuit', (b) => b.openCircuit('db')],
    ['closeCircuit', (b) => b.closeCircuit('cache')],
    ['resetCircuit', (b) => b.resetCircuit('cache')],
    ['configure(options)', (b) => b.configure({ maxAttempts: 2 })],
    ['configure(identifier, options)', (b) => b.configure('db', { maxAttempts: 2 })],
    ['subscribe', (b) => b.subscribe(noop)],
    ['cleanup', (b) => b.cleanup()],
    ['setState', (b) => setState(b, 'db', 'open')],
    ['addFailures', (b) => addFailures(b, 'db', 1)],
    ['simulateRecovery', (b) => simulateRecovery(b, 'cache')],
    ['expectState', (b) => expectState(b, 'db', 'closed')],
    ['recordEvents', (b) => recordEvents(b)],
  ];

  it.each(calls)('%s', async (_method, call) => {
    const { brama } = fixture();
    await brama.close();
    await expectBramaError(() => call(brama), 'BRAMA_CLOSED', []);
    await expect(brama.close()).resolves.toBeUndefined(); // idempotent
  });
});

// ---------------------------------------------------------------------------------------------
// Accepted boundaries, immutability of inputs, isBramaError
// ---------------------------------------------------------------------------------------------

describe('valid boundary values are accepted', () => {
  it.each([
    { maxAttempts: 1 },
    { halfOpenProbes: 1 },
    { backoffFactor: 1 },
    { expiry: 1, initialExpiry: 1, maxExpiry: 1, probeTimeout: 1 },
    { expiryStrategy: 'progressive' as const },
    { maxAttempts: Number.MAX_SAFE_INTEGER },
    { cleanupInterval: 0 },
    { cleanupInterval: 2 ** 31 - 1 },
    { inactiveThreshold: 1 },
    { maxAttempts: undefined, expiry: undefined },
  ])('%o', async (options) => {
    const brama = new Brama(options);
    brama.configure(options);
    const circuit = Object.fromEntries(
      Object.entries(options).filter(
        ([key]) => !['cleanupInterval', 'inactiveThreshold'].includes(key),
      ),
    );
    brama.register('a', circuit);
    brama.configure('a', circuit);
    expect(brama.status('a').state).toBe('unknown');
    await brama.close();
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value))
      deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

describe('inputs are never mutated', () => {
  it('every method accepts deep-frozen options and leaves them as they were', async () => {
    let time = START;
    const clock = deepFreeze({ now: () => time });
    const ctor = deepFreeze({
      maxAttempts: 2,
      expiry: 1_000,
      expiryStrategy: 'progressive' as const,
      initialExpiry: 500,
      maxExpiry: 4_000,
      backoffFactor: 3,
      halfOpenProbes: 1,
      probeTimeout: 100,
      cleanupInterval: 0,
      inactiveThreshold: 10_000,
      onListenerError: noop,
      clock,
    });
    const ctorJson = JSON.stringify(ctor);
    const brama = new Brama(ctor);

    const registerOpts = deepFreeze({
      scope: 's',
      metadata: { owner: { team: 'core', tags: ['a', 'b'] } },
      maxAttempts: 3,
    });
    const registerJson = JSON.stringify(registerOpts);
    const scoped = deepFreeze({ scope: 's' });
    const failureOpts = deepFreeze({ scope: 's', reason: 'boom' });
    const openOpts = deepFreeze({ scope: 's', reason: 'manual', expiry: 10 });
    const filter = deepFreeze({ events: ['failure', 'success'] as const, scope: 's' });
    const waitOpts = deepFreeze({ timeoutMs: 50 });
    const configureOpts = deepFreeze({ maxAttempts: 4, inactiveThreshold: 20_000 });
    const connectionOpts = deepFreeze({ scope: 's', probeTimeout: 50, metadata: { x: [1] } });

    const status = brama.register('db', registerOpts);
    expect(status.metadata).toEqual({ owner: { team: 'core', tags: ['a', 'b'] } });
    const recorder = recordEvents(brama, filter);
    brama.subscribe(noop, filter);
    brama.configure(configureOpts);
    brama.configure('db', connectionOpts);
    expect(brama.isAvailable('db', scoped)).toBe(true);
    brama.success('db', scoped);
    brama.failure('db', failureOpts);
    addFailures(brama, 'db', 1, failureOpts);
    await expect(recorder.waitFor('failure', waitOpts)).resolves.toMatchObject({ scope: 's' });
    expect(brama.list(scoped)).toHaveLength(1);
    brama.openCircuit('db', openOpts);
    expectState(brama, 'db', 'open', scoped);
    brama.closeCircuit('db', failureOpts);
    brama.resetCircuit('db', failureOpts);
    setState(brama, 'db', 'open', scoped);
    simulateRecovery(brama, 'db', scoped);
    time += 1;
    expect(brama.status('db', scoped).state).toBe('closed');

    // Bad input with frozen objects is still reported as a BramaError (not a TypeError).
    const badCtor = deepFreeze({ maxAttempts: 3, expiry: -1 });
    await expectBramaError(() => new Brama(badCtor), OPT, ['expiry']);
    await expectBramaError(() => brama.configure(badCtor), OPT, ['expiry']);
    await expectBramaError(() => brama.register('x', badCtor), OPT, ['expiry']);
    await expectBramaError(() => brama.configure('db', { ...scoped, ...badCtor }), OPT, ['expiry']);

    expect(JSON.stringify(ctor)).toBe(ctorJson);
    expect(JSON.stringify(registerOpts)).toBe(registerJson);
    expect(brama.status('db', scoped).metadata).toEqual({ x: [1] });
    await brama.close();
  });

  it('metadata is copied: later changes to the caller’s object do not leak in', () => {
    const { brama } = fixture();
    const metadata: Record<string, unknown> = { team: 'core' };
    brama.register('new', { metadata });
    metadata.team = 'changed';
    metadata.extra = true;
    expect(brama.status('new').metadata).toEqual({ team: 'core' });
  });
});

describe('isBramaError', () => {
  const BRAND = Symbol.for('brama.error');

  it('recognises errors thrown by brama, with and without a code', async () => {
    const { brama } = fixture();
    const error = await caught(() => brama.status('ghost'));
    expect(isBramaError(error)).toBe(true);
    expect(isBramaError(error, 'BRAMA_NOT_FOUND')).toBe(true);
    expect(isBramaError(error, 'BRAMA_CLOSED')).toBe(false);
  });

  it('recognises a brama error created by another install (brand + code, no shared class)', () => {
    const literal = { name: 'BramaError', message: 'x', code: 'BRAMA_NOT_FOUND', [BRAND]: true };
    const asError = Object.defineProperty(
      Object.assign(new Error('x'), { code: 'BRAMA_CLOSED' }),
      BRAND,
      {
        value: true,
      },
    );
    const otherRealm: unknown = runInNewContext(
      "({ name: 'BramaError', message: 'x', code: 'BRAMA_TIMEOUT', [Symbol.for('brama.error')]: true })",
    );
    expect(literal instanceof BramaError).toBe(false);
    expect(isBramaError(literal)).toBe(true);
    expect(isBramaError(literal, 'BRAMA_NOT_FOUND')).toBe(true);
    expect(isBramaError(literal, 'BRAMA_TIMEOUT')).toBe(false);
    expect(isBramaError(asError, 'BRAMA_CLOSED')).toBe(true);
    expect(isBramaError(otherRealm, 'BRAMA_TIMEOUT')).toBe(true);
  });

  it.each([
    ['a code without the brand', { code: 'BRAMA_NOT_FOUND' }],
    [
      'an Error named BramaError with a code',
      Object.assign(new Error('x'), { name: 'BramaError', code: 'BRAMA_NOT_FOUND' }),
    ],
    [
      'an unregistered symbol of the same name',
      { [Symbol('brama.error')]: true, code: 'BRAMA_NOT_FOUND' },
    ],
    ['a brand that is not true', { [Symbol.for('brama.error')]: 'true', code: 'BRAMA_NOT_FOUND' }],
    ['a brand without a code', { [Symbol.for('brama.error')]: true }],
    ['a brand with a non-string code', { [Symbol.for('brama.error')]: true, code: 404 }],
    ['a string', 'BRAMA_NOT_FOUND'],
    ['null', null],
    ['undefined', undefined],
  ])('returns false for %s', (_what, value) => {
    expect(isBramaError(value)).toBe(false);
    expect(isBramaError(value, 'BRAMA_NOT_FOUND')).toBe(false);
  });
});
