import { readOptions } from './core/arguments.js';
import type { Clock } from './core/clock.js';
import { invalidOption } from './core/errors.js';
import { CIRCUIT_OPTION_KEYS, pickCircuitOptions, type CircuitOptions } from './core/settings.js';
import type { ListenerErrorHandler } from './events/types.js';
import type { ConnectionStore } from './stores/store.js';

/** Options of `new Brama(options)`: global circuit settings plus registry-wide settings. */
export interface BramaOptions extends CircuitOptions {
  /**
   * Milliseconds between sweeps for inactive connections; `0` disables the sweep.
   * @default 60_000
   */
  cleanupInterval?: number | undefined;
  /**
   * Milliseconds without activity after which the sweep removes a connection.
   * @default 86_400_000 (one day)
   */
  inactiveThreshold?: number | undefined;
  /**
   * Source of time (epoch ms). Inject a `ManualClock` from `brama/testing` in tests.
   * @default the system clock
   */
  clock?: Clock | undefined;
  /**
   * Where connection state lives.
   * @default a new in-memory store
   */
  store?: ConnectionStore | undefined;
  /**
   * Called when an event listener throws.
   * @default emits a process warning
   */
  onListenerError?: ListenerErrorHandler | undefined;
  /**
   * Source of randomness in [0, 1): during a ramp-up (`rampUpMs`), a call is admitted when it
   * returns less than the share of calls let back in. Inject one for deterministic tests. A
   * value outside [0, 1), or a throw, counts as `Math.random()`'s.
   * @default Math.random
   */
  random?: (() => number) | undefined;
}

/** Options accepted by the global `configure(options)`: everything but `clock` and `store`. */
export type GlobalConfigureOptions = Omit<BramaOptions, 'clock' | 'store'>;

/** Registry-wide settings after validation. */
export interface RegistrySettings {
  readonly cleanupInterval: number;
  readonly inactiveThreshold: number;
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = Object.freeze({
  cleanupInterval: 60_000,
  inactiveThreshold: 86_400_000,
});

/** The longest delay `setInterval` honours (longer ones fire after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

const REGISTRY_KEYS = [
  'cleanupInterval',
  'inactiveThreshold',
  'onListenerError',
  'random',
] as const;
const CONSTRUCTOR_KEYS: ReadonlySet<string> = new Set([
  ...CIRCUIT_OPTION_KEYS,
  ...REGISTRY_KEYS,
  'clock',
  'store',
]);

/** Validated constructor or configure options. */
export interface ParsedOptions {
  readonly circuit: CircuitOptions;
  readonly registry: Partial<RegistrySettings>;
  readonly onListenerError: ListenerErrorHandler | undefined;
  readonly random: (() => number) | undefined;
  readonly clock: Clock | undefined;
  readonly store: ConnectionStore | undefined;
}

/** Validates constructor options (`construct`) or global `configure` options. */
export function parseOptions(input: unknown, context: 'construct' | 'configure'): ParsedOptions {
  const o = readOptions(
    input,
    context === 'construct' ? 'Brama options' : 'configure options',
    CONSTRUCTOR_KEYS,
  );
  if (context === 'configure') {
    for (const key of ['clock', 'store'] as const) {
      if (o[key] !== undefined)
        throw invalidOption(key, 'to be set in the constructor only', o[key]);
    }
  }
  const registry: { -readonly [K in keyof RegistrySettings]?: number } = {};
  if (o.cleanupInterval !== undefined) {
    const v = o.cleanupInterval;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMER_MS) {
      throw invalidOption(
        'cleanupInterval',
        `a number of ms from 0 (disabled) to ${MAX_TIMER_MS}`,
        v,
      );
    }
    registry.cleanupInterval = v;
  }
  if (o.inactiveThreshold !== undefined) {
    const v = o.inactiveThreshold;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw invalidOption('inactiveThreshold', 'a finite number of ms > 0', v);
    }
    registry.inactiveThreshold = v;
  }
  if (o.onListenerError !== undefined && typeof o.onListenerError !== 'function') {
    throw invalidOption('onListenerError', 'a function (error, event) => void', o.onListenerError);
  }
  if (o.random !== undefined && typeof o.random !== 'function') {
    throw invalidOption('random', 'a function () => number in [0, 1)', o.random);
  }
  if (o.clock !== undefined && !isClock(o.clock)) {
    throw invalidOption('clock', 'an object with a now() method returning epoch ms', o.clock);
  }
  if (o.store !== undefined && !isStore(o.store)) {
    throw invalidOption('store', 'a ConnectionStore (e.g. new MemoryStore())', o.store);
  }
  return {
    circuit: pickCircuitOptions(o),
    registry,
    onListenerError: o.onListenerError as ListenerErrorHandler | undefined,
    random: o.random as (() => number) | undefined,
    clock: o.clock,
    store: o.store,
  };
}

function isClock(value: unknown): value is Clock {
  return typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function';
}

const STORE_METHODS = [
  'attach',
  'get',
  'insert',
  'remove',
  'records',
  'settle',
  'admit',
  'report',
  'act',
  'reconfigured',
  'close',
];

function isStore(value: unknown): value is ConnectionStore {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return STORE_METHODS.every((m) => typeof candidate[m] === 'function');
}
