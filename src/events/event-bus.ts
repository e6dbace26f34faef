import { invalidArgument } from '../core/errors.js';
import { compileFilter, matchesStructure, type CompiledFilter } from './filter.js';
import type {
  BramaEvent,
  BramaEventType,
  EventHandler,
  ListenerErrorHandler,
  Subscription,
} from './types.js';

interface Listener {
  readonly handler: EventHandler;
  readonly filter: CompiledFilter;
}

/** Warns once per failure through `process.emitWarning` (the default `onListenerError`). */
export const warnListenerError: ListenerErrorHandler = (error, event) => {
  const message = `brama: a listener for "${event.type}" threw: ${
    error instanceof Error ? (error.stack ?? String(error)) : String(error)
  }`;
  globalThis.process?.emitWarning?.(message, { type: 'BramaListenerWarning' });
};

/**
 * Delivers events to subscribers in order, after the state they describe is committed. Events
 * raised while listeners run (a listener that reports an outcome) are queued behind the current
 * one, so every listener sees one global order. A throwing listener, or an async one whose
 * promise rejects, is reported to `onListenerError` and never reaches the code that caused the
 * event (nor the process as an unhandled rejection).
 */
export class EventBus {
  onListenerError: ListenerErrorHandler = warnListenerError;
  /** Replaced (never mutated) on subscribe/unsubscribe, so delivery iterates a stable list. */
  private listeners: readonly Listener[] = [];
  /** Subscribers per type; `anyType` counts those without a type filter. */
  private readonly perType = new Map<BramaEventType, number>();
  private anyType = 0;
  private readonly queue: BramaEvent[] = [];
  private draining = false;

  /** Whether any subscriber could receive an event of `type` (cheap; guards event building). */
  wants(type: BramaEventType): boolean {
    return this.anyType > 0 || (this.perType.get(type) ?? 0) > 0;
  }

  /** Whether anybody listens at all. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(handler: unknown, filter?: unknown): Subscription {
    if (typeof handler !== 'function') {
      throw invalidArgument('handler', 'a function (event) => void', handler);
    }
    const listener: Listener = { handler: handler as EventHandler, filter: compileFilter(filter) };
    this.listeners = [...this.listeners, listener];
    this.count(listener, 1);
    let subscribed = true;
    return {
      unsubscribe: () => {
        if (!subscribed) return;
        subscribed = false;
        this.listeners = this.listeners.filter((l) => l !== listener);
        this.count(listener, -1);
      },
    };
  }

  /** Queues an event and delivers everything queued unless a delivery is already running. */
  emit(event: BramaEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let i = 0; i < this.queue.length; i++) this.deliver(this.queue[i] as BramaEvent);
    } finally {
      this.queue.length = 0;
      this.draining = false;
    }
  }

  /** Drops every subscriber. */
  clear(): void {
    this.listeners = [];
    this.perType.clear();
    this.anyType = 0;
  }

  private deliver(event: BramaEvent): void {
    for (const { handler, filter } of this.listeners) {
      if (!matchesStructure(filter, event)) continue;
      try {
        if (filter.predicate !== null && !filter.predicate(event)) continue;
        const returned: unknown = handler(event);
        // An async listener fails by rejecting: route that like a throw, never to the process.
        if (returned !== undefined) this.watch(returned, event);
      } catch (error) {
        this.report(error, event);
      }
    }
  }

  /** Reports a rejection of the promise (or thenable) a listener returned. */
  private watch(returned: unknown, event: BramaEvent): void {
    if ((typeof returned !== 'object' && typeof returned !== 'function') || returned === null)
      return;
    const then: unknown = (returned as { then?: unknown }).then;
    if (typeof then !== 'function') return;
    Reflect.apply(then, returned, [undefined, (error: unknown) => this.report(error, event)]);
  }

  private report(error: unknown, event: BramaEvent): void {
    try {
      this.onListenerError(error, event);
    } catch {
      // The error handler itself failed: nothing is left to tell, and the caller must not see it.
    }
  }

  private count(listener: Listener, delta: 1 | -1): void {
    const types = listener.filter.types;
    if (types === null) {
      this.anyType += delta;
      return;
    }
    for (const type of types) this.perType.set(type, (this.perType.get(type) ?? 0) + delta);
  }
}
