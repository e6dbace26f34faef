// The ES module side: `brama` resolves through the `import` condition. Registries, stores and
// errors cross between the two sides in both directions.
import {
  Brama,
  CircuitOpenError,
  circuitBreaker,
  isBramaError,
  type ConnectionStore,
  type RemovalCause,
} from 'brama';
import { recordEvents, setState } from 'brama/testing';
import { RedisStore } from 'brama/redis';
import {
  CircuitOpenError as CommonJsCircuitOpenError,
  createRegistry,
  retryAfter,
  sharedStore,
  stateOf,
} from './registry.cjs';

// CommonJS → ESM: a registry made on the CommonJS side is this side's Brama.
const fromCommonJs: Brama = createRegistry();
fromCommonJs.register('api');
setState(fromCommonJs, 'api', 'open');
const recorder = recordEvents(fromCommonJs, { events: ['circuit_opened'] });
const opened: 'circuit_opened' | undefined = recorder.events[0]?.type;
circuitBreaker(fromCommonJs, { identifier: 'api' });

// ESM → CommonJS: this side's Brama is accepted where the CommonJS side expects its own.
const state: 'unknown' | 'closed' | 'open' | 'half_open' = stateOf(new Brama(), 'api');

const store: RedisStore = sharedStore();
const asStore: ConnectionStore = store;
const cause: RemovalCause = 'cleanup';
const error: CircuitOpenError = new CommonJsCircuitOpenError('api', null, 'open', 1);
const wait: number | null = retryAfter(error);
if (isBramaError(error, 'BRAMA_CIRCUIT_OPEN')) console.log(error.retryAfterMs);

console.log(opened, state, asStore, cause, wait);
