/**
 * Subscribing to events, with filters. Run with `npx tsx examples/events.ts`.
 */
import { Brama } from 'brama';
import { ManualClock } from 'brama/testing';

const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
const brama = new Brama({ clock, maxAttempts: 2, expiry: 5_000 });

// Every event of the billing scope, in the order they happen.
const all = brama.subscribe(
  (event) => console.log(`${event.type} ${event.scope}/${event.identifier}`),
  { scope: 'billing' },
);

// Only transitions, with where they came from. With `events`, the handler's `event` is narrowed
// to those types: here a state_change event, whose data is the transition.
brama.subscribe(
  (event) => {
    const { from, to, cause, reason } = event.data;
    console.log(`  ${from} → ${to} (cause: ${cause}, reason: ${String(reason)})`);
  },
  { events: ['state_change'] },
);

// Only openings of one identifier, and only when a failure tripped the circuit.
brama.subscribe((event) => console.log(`  ALERT: ${event.identifier} tripped`), {
  events: ['circuit_opened'],
  identifier: 'payments-api',
  filter: (event) => event.data.cause === 'failure',
});

brama.register('payments-api', { scope: 'billing' });
// registration billing/payments-api
brama.failure('payments-api', { scope: 'billing', reason: 'HTTP 503' });
// failure billing/payments-api
// state_change billing/payments-api
//   unknown → closed (cause: failure, reason: HTTP 503)
brama.failure('payments-api', { scope: 'billing', reason: 'HTTP 503' });
// failure billing/payments-api
// state_change billing/payments-api
//   closed → open (cause: failure, reason: HTTP 503)
// circuit_opened billing/payments-api
//   ALERT: payments-api tripped

clock.advance(5_000);
console.log(brama.isAvailable('payments-api', { scope: 'billing' })); // the half-open trial
// state_change billing/payments-api
//   open → half_open (cause: expiry, reason: null)
// circuit_half_opened billing/payments-api
// true
brama.success('payments-api', { scope: 'billing' });
// success billing/payments-api
// state_change billing/payments-api
//   half_open → closed (cause: success, reason: null)
// circuit_closed billing/payments-api

all.unsubscribe();
