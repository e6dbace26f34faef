/** Scenario 2: the report API (`isAvailable` + `success`) on a closed connection. */
import { Brama } from 'brama';
import { CircuitState } from 'cockatiel';
import { value } from '../functions.js';
import { measure, type Plan, type Subject } from '../harness.js';
import { cockatiel, NEVER_TRIPS, opossum } from '../peers.js';
import { tableOf, type Table } from '../table.js';

export const REPORT_LABELS = [
  { key: 'brama.pair', label: "brama `isAvailable('id')` + `success('id')`" },
  {
    key: 'brama.pair-scoped',
    label: "brama `isAvailable('id', { scope })` + `success('id', { scope })`",
  },
  { key: 'brama.isAvailable', label: "brama `isAvailable('id')` alone" },
  { key: 'brama.success', label: "brama `success('id')` alone" },
  { key: 'brama.failure', label: "brama `failure('id')` alone (stays closed)" },
  {
    key: 'cockatiel.state',
    label: 'cockatiel `policy.state === CircuitState.Closed` (read only; no report API)',
  },
  { key: 'opossum.closed', label: 'opossum `breaker.closed` (read only; no report API)' },
] as const;

export async function reportApi(plan: Plan): Promise<Table> {
  const brama = new Brama();
  brama.register('api');
  brama.success('api'); // closed, not unknown
  const scope = { scope: 'payments' };
  brama.register('db', scope);
  brama.success('db', scope);
  brama.register('flaky', { maxAttempts: NEVER_TRIPS });
  const breaker = opossum(value);
  const policy = cockatiel();

  const subjects: Subject[] = [
    {
      name: 'brama.pair',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          if (brama.isAvailable('api')) {
            brama.success('api');
            s++;
          }
        }
        return s;
      },
    },
    {
      name: 'brama.pair-scoped',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          if (brama.isAvailable('db', scope)) {
            brama.success('db', scope);
            s++;
          }
        }
        return s;
      },
    },
    {
      name: 'brama.isAvailable',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (brama.isAvailable('api')) s++;
        return s;
      },
    },
    {
      name: 'brama.success',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          brama.success('api');
          s++;
        }
        return s;
      },
    },
    {
      name: 'brama.failure',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          brama.failure('flaky');
          s++;
        }
        return s;
      },
    },
    {
      name: 'cockatiel.state',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (policy.state === CircuitState.Closed) s++;
        return s;
      },
    },
    {
      name: 'opossum.closed',
      batch: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) if (breaker.closed) s++;
        return s;
      },
    },
  ];

  const measured = await measure('2 report API', subjects, plan);
  breaker.shutdown();
  await brama.close();
  return tableOf('Report API on a closed connection', measured, REPORT_LABELS, {
    unit: 'ns/op',
    notes: [
      'No ratio to a raw call: there is no call here, only the bookkeeping around one.',
      'Neither peer lets the caller report an outcome of a call it made itself: opossum counts only what goes through `fire()`, cockatiel only what goes through `execute()`. Their nearest equivalent of `isAvailable` is reading the state, shown for context; it is not the same work (no connection lookup by name, no admission decision).',
    ],
  });
}
