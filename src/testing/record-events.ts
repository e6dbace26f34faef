import type { Brama } from '../brama.js';
import { readOptions } from '../core/arguments.js';
import { BramaError, invalidArgument, invalidOption } from '../core/errors.js';
import { checkBrama } from './helpers.js';
import {
  EVENT_TYPES,
  type BramaEvent,
  type BramaEventOf,
  type BramaEventType,
  type EventFilter,
} from '../events/types.js';

/** Options of {@link EventRecorder.waitFor}. */
export interface WaitForOptions {
  /** Reject with `BRAMA_TIMEOUT` after this many ms of real time. @default 1_000 */
  timeoutMs?: number | undefined;
}

/**
 * What {@link recordEvents} returns. `K`: the event types it records (those of the filter's
 * `events`, by default every type).
 */
export interface EventRecorder<K extends BramaEventType = BramaEventType> {
  /** Every event recorded so far, oldest first (the same array for the recorder's lifetime). */
  readonly events: BramaEventOf<K>[];
  /** Empties `events`. */
  clear(): void;
  /** The earliest recorded event of `type`, or the next one to arrive. */
  waitFor<T extends K>(type: T, options?: WaitForOptions): Promise<BramaEventOf<T>>;
  /** Stops recording (pending `waitFor`s still time out). */
  stop(): void;
}

interface Waiter {
  readonly type: BramaEventType;
  readonly resolve: (event: BramaEvent) => void;
}

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES);
const WAIT_KEYS: ReadonlySet<string> = new Set(['timeoutMs']);
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Records a registry's events (optionally filtered, as `subscribe` filters; with `events`, the
 * recorder's types narrow to those).
 */
export function recordEvents<K extends BramaEventType = BramaEventType>(
  brama: Brama,
  filter?: EventFilter<K>,
): EventRecorder<K> {
  checkBrama(brama);
  const events: BramaEventOf<K>[] = [];
  let waiters: Waiter[] = [];
  const subscription = brama.subscribe((event) => {
    events.push(event);
    const ready = waiters.filter((w) => w.type === event.type);
    if (ready.length === 0) return;
    waiters = waiters.filter((w) => w.type !== event.type);
    for (const w of ready) w.resolve(event);
  }, filter);

  return {
    events,
    clear: () => {
      events.length = 0;
    },
    stop: () => subscription.unsubscribe(),
    waitFor: <T extends K>(type: T, options?: WaitForOptions) => {
      if (typeof type !== 'string' || !KNOWN.has(type)) {
        return Promise.reject(invalidArgument('event type', EVENT_TYPES.join(', '), type));
      }
      let timeoutMs: unknown;
      try {
        timeoutMs = readOptions(options, 'waitFor options', WAIT_KEYS).timeoutMs ?? 1_000;
      } catch (error) {
        return Promise.reject(error);
      }
      if (
        typeof timeoutMs !== 'number' ||
        !Number.isFinite(timeoutMs) ||
        timeoutMs < 0 ||
        timeoutMs > MAX_TIMER_MS
      ) {
        return Promise.reject(
          invalidOption('timeoutMs', `a number of ms from 0 to ${MAX_TIMER_MS}`, timeoutMs),
        );
      }
      const seen = events.find((e) => e.type === type);
      if (seen) return Promise.resolve(seen as BramaEventOf<T>);
      return new Promise<BramaEventOf<T>>((resolve, reject) => {
        const waiter: Waiter = {
          type,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event as BramaEventOf<T>);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new BramaError('BRAMA_TIMEOUT', `No "${type}" event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
