/** Cancels a timer created by {@link Clock.schedule}. */
export type CancelTimer = () => void;

/** A source of time: epoch milliseconds. Every time read in brama goes through one. */
export interface Clock {
  /** The current time, epoch ms. */
  now(): number;
  /**
   * Optional: runs `callback` once after `ms` of this clock's time (used for call timeouts).
   * Clocks without it get real timers. `ManualClock` fires them when advanced.
   */
  schedule?(callback: () => void, ms: number): CancelTimer;
}

/** The wall clock (`Date.now`, real timers). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  schedule: (callback: () => void, ms: number): CancelTimer => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
});

/** Schedules on `clock` when it can, on a real timer otherwise. */
export function scheduleOn(clock: Clock, callback: () => void, ms: number): CancelTimer {
  return clock.schedule ? clock.schedule(callback, ms) : systemClock.schedule!(callback, ms);
}
