import type { CancelTimer, Clock } from '../core/clock.js';
import { invalidArgument } from '../core/errors.js';

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: inject it with `new Brama({ clock })` in tests. Timers
 * scheduled on it (call timeouts) fire, in time order, when `advance` or `set` reaches them.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(start = 0) {
    this.current = checkTime(start, 'start');
  }

  /** The current time (epoch ms). */
  now(): number {
    return this.current;
  }

  /** Moves time forward by `ms` (>= 0), firing due timers; returns the new time. */
  advance(ms: number): number {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw invalidArgument('ms', 'a finite number >= 0', ms);
    }
    return this.moveTo(this.current + ms);
  }

  /** Sets the time (it may go backwards, to test clock skew), firing due timers; returns it. */
  set(ms: number): number {
    return this.moveTo(checkTime(ms, 'ms'));
  }

  /** Runs `callback` when this clock reaches now + `ms`. */
  schedule(callback: () => void, ms: number): CancelTimer {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private moveTo(target: number): number {
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
    return this.current;
  }
}

function checkTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(what, 'a finite number of epoch ms', value);
  }
  return value;
}
