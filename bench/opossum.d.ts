/**
 * The slice of opossum's API the benchmarks use (opossum ships no types of its own; the
 * DefinitelyTyped ones lag its major versions).
 */
declare module 'opossum' {
  import { EventEmitter } from 'node:events';

  namespace CircuitBreaker {
    interface Options {
      timeout?: number | false;
      resetTimeout?: number;
      errorThresholdPercentage?: number;
      volumeThreshold?: number;
      rollingCountTimeout?: number;
      rollingCountBuckets?: number;
      rollingPercentilesEnabled?: boolean;
      enabled?: boolean;
    }
  }

  class CircuitBreaker<A extends unknown[] = unknown[], R = unknown> extends EventEmitter {
    constructor(action: (...args: A) => R | Promise<R>, options?: CircuitBreaker.Options);
    fire(...args: A): Promise<R>;
    open(): void;
    close(): void;
    shutdown(): void;
    readonly opened: boolean;
    readonly closed: boolean;
    readonly halfOpen: boolean;
  }

  export = CircuitBreaker;
}
