import type { ConnectionRecord } from './core/record.js';
import type { ScopeOptions } from './method-options.js';
import type { DurationListener } from './metering.js';

/**
 * Key of the hook `brama/testing` uses to reach inside a registry. A registered symbol, so it
 * is the same across bundles and duplicate installs.
 */
export const INTERNALS: unique symbol = Symbol.for('brama.internals');

/** What an exporter of `brama/metrics` reads from the registry it is attached to. */
export interface MeterHook {
  /**
   * Every registered connection, each settled to now (an elapsed open period reads as
   * half-open, as in `status`); none once the registry is closed.
   */
  records(): ConnectionRecord[];
  /** How many connections are registered (0 once the registry is closed). */
  readonly size: number;
  /** Whether the store works on local state (fleet mode without its backend). */
  readonly storeDegraded: boolean;
  /** Stops this exporter's metering (idempotent). */
  detach(): void;
}

/** What the testing kit may do that the public API does not offer. */
export interface BramaInternals {
  /** Forces a state, emitting the events of the transition. */
  force(identifier: string, state: 'closed' | 'open' | 'half_open', opts?: ScopeOptions): void;
  /**
   * Attaches a `brama/metrics` exporter: calls, reports and transitions are counted from now
   * on, and `onDuration` (when given) hears each timed wrapped call.
   */
  attachMeter(onDuration: DurationListener | null): MeterHook;
}
