import type { ConnectionRecord } from './core/record.js';
import type { CircuitState } from './core/state.js';
import type { ConnectionStatus } from './core/status.js';
import type { EventBus } from './events/event-bus.js';
import type {
  BramaEvent,
  BramaEventDataMap,
  ChangeOrigin,
  TransitionCause,
} from './events/types.js';
import type { ChangeKind } from './stores/store.js';

type TransitionEvent =
  'circuit_opened' | 'circuit_half_opened' | 'circuit_closed' | 'circuit_reset';

const CAUSES: Record<Exclude<ChangeKind, 'ignore'>, TransitionCause> = {
  success: 'success',
  failure: 'failure',
  expire: 'expiry',
  open: 'manual',
  close: 'manual',
  reset: 'reset',
  force_closed: 'forced',
  force_open: 'forced',
  force_half_open: 'forced',
  configure: 'sync',
  sync: 'sync',
};

/** Manual actions announce themselves even when the state does not change. */
const ANNOUNCED: Partial<Record<ChangeKind, TransitionEvent>> = {
  open: 'circuit_opened',
  close: 'circuit_closed',
  reset: 'circuit_reset',
};

/**
 * Turns one committed change into its events, in the documented order: the outcome event, then
 * `state_change` (only when the state changed), then the specific `circuit_*` event. Builds
 * nothing when nobody listens for those types.
 */
export function emitChange(
  bus: EventBus,
  record: ConnectionRecord,
  kind: ChangeKind,
  from: CircuitState,
  reason: unknown,
  origin: ChangeOrigin,
  timestamp: number,
  snapshot: () => ConnectionStatus,
): void {
  if (kind === 'ignore') return;
  const to = record.circuit.state;
  const specific = ANNOUNCED[kind] ?? (from === to ? null : transitionEvent(from, to));
  // Outcome events describe this process's calls; another process's outcome only shows up
  // through the transition it caused.
  const emitOutcome =
    origin === 'local' && (kind === 'success' || kind === 'failure') && bus.wants(kind);
  const emitState = from !== to && bus.wants('state_change');
  const emitSpecific = specific !== null && bus.wants(specific);
  if (!emitOutcome && !emitState && !emitSpecific) return;

  const status = snapshot();
  const { identifier, scope } = record;
  const send = <K extends keyof BramaEventDataMap>(type: K, data: BramaEventDataMap[K]): void => {
    bus.emit({ type, timestamp, identifier, scope, data } as BramaEvent);
  };
  if (emitOutcome) {
    if (kind === 'failure') send('failure', { status, reason: reason ?? null });
    else send('success', { status });
  }
  if (!emitState && !emitSpecific) return;
  // An opening caused by outcomes says which rule of the trip policy decided it.
  const trip = to === 'open' && (kind === 'success' || kind === 'failure') ? record.trip : null;
  const data = Object.freeze({
    status,
    from,
    to,
    reason: reason ?? null,
    cause: CAUSES[kind],
    origin,
    trip,
  });
  if (emitState) send('state_change', data);
  if (emitSpecific) send(specific, data);
}

function transitionEvent(from: CircuitState, to: CircuitState): TransitionEvent | null {
  switch (to) {
    case 'open':
      return 'circuit_opened';
    case 'half_open':
      return 'circuit_half_opened';
    case 'closed':
      return from === 'unknown' ? null : 'circuit_closed';
    case 'unknown':
      return null;
  }
}
