/** brama/testing: deterministic helpers for testing code that uses brama. */
export { ManualClock } from './manual-clock.js';
export {
  addFailures,
  expectState,
  setState,
  simulateFailures,
  simulateRecovery,
  StateAssertionError,
  type FailureSimulationOptions,
} from './helpers.js';
export { recordEvents, type EventRecorder, type WaitForOptions } from './record-events.js';
