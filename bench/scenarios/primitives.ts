/**
 * What the building blocks of brama's hot paths cost on this machine, measured in the same run,
 * so that the analysis of a missed target can point at numbers rather than guesses.
 */
import { measure, type Plan, type Subject } from '../harness.js';
import { tableOf, type Table } from '../table.js';

export const PRIMITIVE_LABELS = [
  {
    key: 'date-now',
    label:
      '`Date.now()` (read for every report but a success on a closed circuit, which reuses the turn’s reading)',
  },
  { key: 'map-get', label: '`Map#get` of a short string key (the connection lookup)' },
  {
    key: 'spread-chain',
    label: '`c = { ...c, failureCount: c.failureCount + 1 }` on a spread-made 8-field object',
  },
  { key: 'literal-copy', label: 'the same copy written as an object literal, field by field' },
  { key: 'freeze-empty', label: '`Object.freeze({})` (fresh object)' },
  {
    key: 'error-no-stack',
    label:
      '`new Error(message)` with `Error.stackTraceLimit = 0` (a refusal before issue 10; now once per open period)',
  },
  {
    key: 'error-derived',
    label: '`Object.create(error)` and five fields set (how each refusal is built now)',
  },
  { key: 'abort-signal', label: '`new AbortController().signal`' },
  {
    key: 'timer',
    label: '`clearTimeout(setTimeout(f, 3_000))` (a call timeout before issue 10)',
  },
] as const;

interface Circuit {
  readonly state: string;
  readonly failureCount: number;
  readonly openedAt: number | null;
  readonly openUntil: number | null;
  readonly openings: number;
  readonly trials: readonly number[];
  readonly changedAt: number;
  readonly generation: number;
}

const NO_TRIALS: readonly number[] = Object.freeze([]);
const initial = (): Circuit => ({
  state: 'closed',
  failureCount: 0,
  openedAt: null,
  openUntil: null,
  openings: 0,
  trials: NO_TRIALS,
  changedAt: 0,
  generation: 1,
});

export async function primitives(plan: Plan): Promise<Table> {
  const map = new Map([['api', { id: 1 }]]);
  const noop = (): void => undefined;
  let spread: Circuit = { ...initial(), generation: 2 };
  let literal: Circuit = initial();
  const subjects: Subject[] = [
    {
      name: 'date-now',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (Date.now() > 0) s++;
        return s;
      },
    },
    {
      name: 'map-get',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (map.get('api') !== undefined) s++;
        return s;
      },
    },
    {
      name: 'spread-chain',
      batch: (n) => {
        const start = spread.failureCount;
        for (let i = 0; i < n; i++) spread = { ...spread, failureCount: spread.failureCount + 1 };
        return spread.failureCount - start;
      },
    },
    {
      name: 'literal-copy',
      batch: (n) => {
        const start = literal.failureCount;
        for (let i = 0; i < n; i++) {
          const c = literal;
          literal = {
            state: c.state,
            failureCount: c.failureCount + 1,
            openedAt: c.openedAt,
            openUntil: c.openUntil,
            openings: c.openings,
            trials: c.trials,
            changedAt: c.changedAt,
            generation: c.generation,
          };
        }
        return literal.failureCount - start;
      },
    },
    {
      name: 'freeze-empty',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (Object.isFrozen(Object.freeze({}))) s++;
        return s;
      },
    },
    {
      name: 'error-no-stack',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          const limit = Error.stackTraceLimit;
          Error.stackTraceLimit = 0;
          const error = new Error('Circuit api is open; retry after 60000 ms');
          Error.stackTraceLimit = limit;
          if (error.message.length > 0) s++;
        }
        return s;
      },
    },
    {
      name: 'error-derived',
      batch: (n) => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        const template = new Error('Circuit api is open; retry after 60000 ms');
        Error.stackTraceLimit = limit;
        let s = 0;
        for (let i = 0; i < n; i++) {
          const error = Object.create(template) as Record<string, unknown>;
          error.code = 'BRAMA_CIRCUIT_OPEN';
          error.identifier = 'api';
          error.scope = null;
          error.state = 'open';
          error.retryAfterMs = i;
          if (error.retryAfterMs === i) s++;
        }
        return s;
      },
    },
    {
      name: 'abort-signal',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (!new AbortController().signal.aborted) s++;
        return s;
      },
    },
    {
      name: 'timer',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          clearTimeout(setTimeout(noop, 3_000));
          s++;
        }
        return s;
      },
    },
  ];
  const measured = await measure('building blocks', subjects, plan);
  return tableOf('Building blocks', measured, PRIMITIVE_LABELS, {
    unit: 'ns/op',
    notes: [
      'Plain JavaScript and Node APIs, no library involved: each is one step of a brama hot path named in the analysis below the generated part.',
    ],
  });
}
