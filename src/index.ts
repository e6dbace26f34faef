/** brama: connection monitoring and circuit breaking for Node.js. */
export {
  Brama,
  type ActionOptions,
  type ConnectionOptions,
  type FailureOptions,
  type ListFilter,
  type OpenOptions,
  type ScopeOptions,
  type SuccessOptions,
} from './brama.js';
export { parseRetryAfter } from './retry-after.js';
export type {
  CriticalSpec,
  HealthConnection,
  HealthOptions,
  HealthReport,
  HealthStatus,
} from './health.js';
export type { BramaOptions, GlobalConfigureOptions } from './options.js';
export { BramaError, type BramaErrorCode } from './core/errors.js';
export { isBramaError, type BramaErrorOf } from './core/is-brama-error.js';
export { CircuitOpenError } from './core/circuit-open-error.js';
export { systemClock, type Clock } from './core/clock.js';
export type { CircuitState, Circuit } from './core/state.js';
export type {
  CircuitMode,
  CircuitOptions,
  CircuitSettings,
  ExpiryStrategy,
  OutcomeWindowSpec,
  TripPolicy,
} from './core/settings.js';
export type { TripRule } from './core/rate-policy.js';
export type { OutcomeWindow, WindowCounts } from './core/window.js';
export type { ConnectionStatus } from './core/status.js';
export type { ConnectionRecord, Metadata } from './core/record.js';
export {
  EVENT_TYPES,
  type BramaEvent,
  type BramaEventDataMap,
  type BramaEventOf,
  type BramaEventType,
  type ChangeOrigin,
  type EventFilter,
  type EventHandler,
  type ListenerErrorHandler,
  type StoreDegradedData,
  type Subscription,
  type TransitionCause,
  type TransitionData,
} from './events/types.js';
export { MemoryStore } from './stores/memory-store.js';
export type {
  ChangeKind,
  ConnectionStore,
  ManualAction,
  Outcome,
  OutcomeDetails,
  RemovalCause,
  StoreHost,
} from './stores/store.js';
export type {
  CallBaseOptions,
  CallOptions,
  Classification,
  FailureCallOptions,
  FailureFallback,
  FallbackArgs,
  FallbackOn,
  RefusalCallOptions,
  RefusalFallback,
} from './wrap/call-options.js';
export {
  circuitBreaker,
  type CircuitBreakerOptions,
  type MethodBreaker,
} from './wrap/decorator.js';
export type { CancelTimer } from './core/clock.js';
