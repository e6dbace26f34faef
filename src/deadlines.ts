import type { CancelTimer } from './core/clock.js';

/**
 * Call timeouts on real time, for the system clock: one list per duration and one Node timer per
 * list, instead of a Node timer per call.
 *
 * A `setTimeout` + `clearTimeout` pair costs 300-600 ns on Node 20 (more when each call empties
 * and recreates Node's list for that duration, as calls made one after another do), while a
 * timed call that settles in time only needs its deadline written down and crossed out. Calls
 * with the same timeout end in the order they started, so each list is kept in deadline order
 * by appending, and a call that settles unlinks itself in O(1). The list's timer is armed for
 * the earliest deadline and is not cleared when that call settles: it fires once, finds nothing
 * due, and re-arms for the new head (so calls made one after another arm about one timer per
 * timeout period). Timers are unref'd: a pending timeout never keeps the process alive.
 * Deadlines are on the monotonic clock (`performance.now()`), like Node's own timers; a timeout
 * fires at least `ms` after it was scheduled, and at most about 1 ms later than that.
 */
interface Deadline {
  readonly at: number;
  readonly callback: () => void;
  prev: Deadline | null;
  next: Deadline | null;
  /** The list holding it; `null` once it fired or was cancelled. */
  list: DeadlineList | null;
}

interface DeadlineList {
  readonly ms: number;
  head: Deadline | null;
  tail: Deadline | null;
  /** Whether a Node timer is armed for this list. */
  armed: boolean;
}

const lists = new Map<number, DeadlineList>();

/** Runs `callback` once, at least `ms` ms from now, unless the returned function cancels it. */
export function scheduleDeadline(callback: () => void, ms: number): CancelTimer {
  let list = lists.get(ms);
  if (list === undefined) {
    list = { ms, head: null, tail: null, armed: false };
    lists.set(ms, list);
  }
  const now = performance.now();
  const deadline: Deadline = { at: now + ms, callback, prev: list.tail, next: null, list };
  if (list.tail === null) list.head = deadline;
  else list.tail.next = deadline;
  list.tail = deadline;
  if (!list.armed) arm(list, ms);
  return () => unlink(deadline);
}

/** The number of pending deadlines (for tests). */
export function pendingDeadlines(): number {
  let count = 0;
  for (const list of lists.values()) for (let d = list.head; d !== null; d = d.next) count++;
  return count;
}

function unlink(deadline: Deadline): void {
  const list = deadline.list;
  if (list === null) return;
  if (deadline.prev === null) list.head = deadline.next;
  else deadline.prev.next = deadline.next;
  if (deadline.next === null) list.tail = deadline.prev;
  else deadline.next.prev = deadline.prev;
  deadline.prev = deadline.next = null;
  deadline.list = null;
}

function arm(list: DeadlineList, delay: number): void {
  list.armed = true;
  // Node may fire up to 1 ms early by performance.now() (it rounds the loop time): `fire`
  // re-arms then.
  setTimeout(fire, Math.max(1, Math.ceil(delay)), list).unref();
}

function fire(list: DeadlineList): void {
  // `armed` stays true while the due callbacks run, so a deadline they schedule does not arm
  // a second timer: the one decision below covers it.
  const now = performance.now();
  for (let due = list.head; due !== null && due.at <= now; due = list.head) {
    unlink(due);
    try {
      due.callback();
    } catch {
      // A timeout handler must not stop the others (brama's own never throw).
    }
  }
  if (list.head !== null) {
    arm(list, list.head.at - performance.now());
  } else {
    list.armed = false;
    lists.delete(list.ms);
  }
}
