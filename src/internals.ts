import type { ScopeOptions } from './method-options.js';

/**
 * Key of the hook `brama/testing` uses to reach inside a registry. A registered symbol, so it
 * is the same across bundles and duplicate installs.
 */
export const INTERNALS: unique symbol = Symbol.for('brama.internals');

/** What the testing kit may do that the public API does not offer. */
export interface BramaInternals {
  /** Forces a state, emitting the events of the transition. */
  force(identifier: string, state: 'closed' | 'open' | 'half_open', opts?: ScopeOptions): void;
}
