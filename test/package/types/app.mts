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
import { openTelemetry, prometheus, type OtelMeter, type PrometheusExporter } from 'brama/metrics';
import { statusHandler, type StatusHandler, type StatusHandlerOptions } from 'brama/http';
import { createServer } from 'node:http';
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

// brama/http: a handler for node:http, made for a registry of the other format.
const handlerOptions: StatusHandlerOptions = {
  token: 'secret',
  control: true,
  critical: (status) => status.scope === 'core',
};
const handler: StatusHandler = statusHandler(fromCommonJs, handlerOptions);
createServer(handler).close();
handler.close();

// brama/metrics: declarations that need no @opentelemetry/api (not installed here).
const exporter: PrometheusExporter = prometheus(fromCommonJs, { prefix: 'app', maxSeries: 100 });
const contentType: string = exporter.contentType;
declare const meter: OtelMeter;
if (contentType === '') openTelemetry(fromCommonJs, meter).close();

console.log(opened, state, asStore, cause, wait);
