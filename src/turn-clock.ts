import { scheduleOn, systemClock, type CancelTimer, type Clock } from './core/clock.js';
import { scheduleDeadline } from './deadlines.js';

/** Runs `callback` once the current event-loop turn is over. */
export type EndOfTurn = (callback: () => void) => void;

/** `setImmediate`, unref'd: it only expires a cached time, so it must not keep a process alive. */
const afterThisTurn: EndOfTurn = (callback) => {
  setImmediate(callback).unref();
};

/**
 * The registry's clock, with one cheaper read for bookkeeping: {@link recent}.
 *
 * A success on a closed circuit changes nothing but counters; its time only becomes
 * `lastSuccessTime` and `lastActivityAt`. Reading the system clock costs about 50 ns on a
 * virtual machine, more than everything else such a call does, so for those stamps the system
 * clock is read at most once per event-loop turn: `recent()` returns the last time read during
 * this turn (by `recent` or `now`), and reads the clock only when none was. A stamp can thus be
 * early by at most the time the turn had been running since that read, and stamps stay in the
 * order of the reports that made them. Every other read (`now`) is exact. An injected clock (a
 * `ManualClock` in tests) is always read: its time is what tests check, and reading it is cheap.
 */
export class TurnClock implements Clock {
  private sample = 0;
  private fresh = false;
  private readonly expire = (): void => {
    this.fresh = false;
  };

  constructor(
    private readonly clock: Clock,
    /** Whether `recent` may reuse a reading: by default only for the system clock. */
    private readonly coarse: boolean = clock === systemClock,
    private readonly endOfTurn: EndOfTurn = afterThisTurn,
  ) {}

  /** The exact time. */
  now(): number {
    const time = this.clock.now();
    if (this.fresh) this.sample = time; // a later `recent()` in this turn is not earlier
    return time;
  }

  /** The time for a bookkeeping stamp: the last reading of this event-loop turn, if any. */
  recent(): number {
    if (this.fresh) return this.sample;
    if (!this.coarse) return this.clock.now();
    this.sample = this.clock.now();
    this.fresh = true;
    this.endOfTurn(this.expire);
    return this.sample;
  }

  /** Call timeouts: on the clock when it schedules its own (not the system clock's real timers). */
  schedule(callback: () => void, ms: number): CancelTimer {
    if (this.clock === systemClock) return scheduleDeadline(callback, ms);
    return scheduleOn(this.clock, callback, ms);
  }
}
